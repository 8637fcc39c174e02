"""Look-ups over model entries in SPARQL: the filtered, sorted and paged list behind GET /models,
the classes a model can be filtered by, and the source's claims about a model.

The engine does the work: one query filters, sorts and pages the models, a second counts
them. Which filters are present decides which FILTER clauses the query has; the values the
user gave enter only as bindings (Store.select's VALUES block), never as query text. LIMIT
and OFFSET are the one exception SPARQL forces: they cannot be bound, so they are written from
Python integers, never from text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rdflib import Literal, URIRef
from rdflib.term import Identifier

from lmkg.entries import LISTED_KINDS, slugify
from lmkg.reasoning import Classifier
from lmkg.store import Row, Store
from lmkg.vocab import GRAPH_SOURCE_NS, LMKG, ORG, PREFIXES, model_id_of, model_iri

SORT_KEYS = ("label", "parameterCount", "releaseDate", "id")
"""What GET /models sorts by: the summary's field of that name."""

_PREFIXES = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())

# Every model with an entry: the kind its entry asserts, and the fields of a summary.
# Organisation labels are repeated in every entry graph that names the organisation, and
# the default graph is the union of all graphs: hence GROUP BY ?model and DISTINCT below.
_MATCH = """
  GRAPH ?entryGraph { ?model a ?kindClass }
  VALUES ?kindClass { lmkg:LargeLanguageModel lmkg:SmallLanguageModel lmkg:LanguageModelOfUnknownKind }
  OPTIONAL { ?model rdfs:label ?label }
  OPTIONAL { ?model lmkg:parameterCount ?parameterCount }
  OPTIONAL { ?model lmkg:releaseDate ?releaseDate }
  OPTIONAL { ?model lmkg:licence ?license }
  OPTIONAL { ?model lmkg:openWeights ?openWeights }
"""

# One clause per filter; ?f... variables are bound from the request.
_FILTERS: dict[str, str] = {
    "kind": "FILTER(?kindClass = ?fKind)",
    # Three values each: known to have the trait, known not to, unknown (neither class).
    "portable=true": "FILTER EXISTS { ?model a lmkg:PortableModel }",
    "portable=false": "FILTER EXISTS { ?model a lmkg:NonPortableModel }",
    "portable=unknown": "FILTER NOT EXISTS { VALUES ?fPortableClass { lmkg:PortableModel lmkg:NonPortableModel } ?model a ?fPortableClass }",
    "cheapToFineTune=true": "FILTER EXISTS { ?model a lmkg:CheapToFineTuneModel }",
    "cheapToFineTune=false": "FILTER EXISTS { ?model a lmkg:CostlyToFineTuneModel }",
    "cheapToFineTune=unknown": "FILTER NOT EXISTS { VALUES ?fCheapClass { lmkg:CheapToFineTuneModel lmkg:CostlyToFineTuneModel } ?model a ?fCheapClass }",
    "fast=true": "FILTER EXISTS { ?model a lmkg:RealTimeCapableModel }",
    "fast=false": "FILTER EXISTS { ?model a lmkg:NotRealTimeCapableModel }",
    "fast=unknown": "FILTER NOT EXISTS { VALUES ?fFastClass { lmkg:RealTimeCapableModel lmkg:NotRealTimeCapableModel } ?model a ?fFastClass }",
    "developer": (
        "FILTER EXISTS { ?model lmkg:developedBy ?fOrg . OPTIONAL { ?fOrg rdfs:label ?fOrgLabel }\n"
        "    FILTER(?fOrg = ?fDeveloperIri || LCASE(STR(?fOrgLabel)) = LCASE(?fDeveloper)) }"
    ),
    "capability": "FILTER EXISTS { ?model a ?fCapability }",
    "minParameters": "FILTER(?parameterCount >= ?fMin)",
    "maxParameters": "FILTER(?parameterCount <= ?fMax)",
    "openWeights": "FILTER(?openWeights = ?fOpen)",
    "search": (
        "OPTIONAL { ?model dcterms:description ?description }\n"
        "  FILTER(CONTAINS(LCASE(STR(?label)), LCASE(?fSearch))"
        " || CONTAINS(LCASE(STR(?description)), LCASE(?fSearch)))"
    ),
}

# The projected (aggregated) variable each sort key orders by.
_SORT_VARIABLES = {"label": "?name", "parameterCount": "?size", "releaseDate": "?released", "id": "?model"}

# The aggregation runs in a subquery and the outer query sorts its plain variables: Virtuoso 7
# refuses ORDER BY over an expression of an aggregate (SP031) and LCASE() of a SAMPLE()
# (SR586, even of a variable the subquery sampled: so the lower-case key is taken row by row,
# before the aggregation); both engines run this form the same way. The outer query's braces carry no WHERE
# keyword so that bound parameters (a VALUES block after the first WHERE) reach the subquery.
_SUMMARY = """SELECT ?model ?name ?kind ?size ?released ?licence ?open ?portable ?cheap ?fast ?pBasis ?cBasis ?fBasis
  ?developers {
{ SELECT ?model (SAMPLE(?label) AS ?name) (MIN(LCASE(STR(?label))) AS ?nameKey) (SAMPLE(?kindClass) AS ?kind)
  (MAX(?parameterCount) AS ?size) (MIN(?releaseDate) AS ?released) (SAMPLE(?license) AS ?licence)
  (SAMPLE(?openWeights) AS ?open) (SAMPLE(?isPortable) AS ?portable) (SAMPLE(?isCheap) AS ?cheap)
  (SAMPLE(?isFast) AS ?fast) (SAMPLE(?portableBasis) AS ?pBasis) (SAMPLE(?cheapBasis) AS ?cBasis)
  (SAMPLE(?fastBasis) AS ?fBasis)
  (GROUP_CONCAT(DISTINCT ?developerName; SEPARATOR="\\u001f") AS ?developers)
WHERE {%s
  # The organisation's label as the entry's own graph gives it: every entry repeats its
  # developer's label, and reading it from the union multiplies rows by that developer's models.
  OPTIONAL { GRAPH ?entryGraph { ?model lmkg:developedBy ?org OPTIONAL { ?org rdfs:label ?orgLabel } } }
  BIND(COALESCE(STR(?orgLabel), STR(?org)) AS ?developerName)
  # Three-valued: true, false, or unbound (unknown) when neither class holds.
  OPTIONAL { ?model a ?portableClass VALUES (?portableClass ?isPortable) { (lmkg:PortableModel true) (lmkg:NonPortableModel false) } }
  OPTIONAL { ?model a ?cheapClass VALUES (?cheapClass ?isCheap) { (lmkg:CheapToFineTuneModel true) (lmkg:CostlyToFineTuneModel false) } }
  OPTIONAL { ?model a ?fastClass VALUES (?fastClass ?isFast) { (lmkg:RealTimeCapableModel true) (lmkg:NotRealTimeCapableModel false) } }
  # What each known verdict rests on (lmkg.evidence): "observation" or "size-rule".
  OPTIONAL { ?model lmkg:hasVerdict ?portableVerdict . ?portableVerdict lmkg:verdictOn "portable" ; lmkg:basis ?portableBasis }
  OPTIONAL { ?model lmkg:hasVerdict ?cheapVerdict . ?cheapVerdict lmkg:verdictOn "cheapToFineTune" ; lmkg:basis ?cheapBasis }
  OPTIONAL { ?model lmkg:hasVerdict ?fastVerdict . ?fastVerdict lmkg:verdictOn "fast" ; lmkg:basis ?fastBasis }
}
GROUP BY ?model }
}
ORDER BY %s
LIMIT %d OFFSET %d"""

_COUNT = "SELECT (COUNT(DISTINCT ?model) AS ?n) WHERE {%s}"

CLAIMS_PATTERN = """?model lmkg:variantOf? ?about .
  GRAPH ?source {
    ?claim lmkg:claimAbout ?about ; lmkg:claimText ?text .
    OPTIONAL { ?claim lmkg:claimedKind ?claimedKind }
    OPTIONAL { ?claim lmkg:curatorNote ?curatorNote }
  }
  FILTER(STRSTARTS(STR(?source), STR(?sourceGraphs)))"""
"""The claims about ?model or its family (?about ?text ?claimedKind ?curatorNote), with
?sourceGraphs bound to the source graphs' namespace; needs the lmkg prefix."""

_CLAIMS = f"""SELECT DISTINCT ?about ?text ?claimedKind ?curatorNote WHERE {{
  {CLAIMS_PATTERN}
}}
ORDER BY ?about ?text"""


@dataclass(frozen=True)
class ModelFilter:
    """The filters of GET /models; None means "do not filter on this"."""

    kind: str | None = None  # "llm" or "slm"
    portable: str | None = None  # "true", "false" or "unknown"
    cheap_to_fine_tune: str | None = None  # likewise
    fast: str | None = None  # likewise
    developer: str | None = None  # organisation name or id, any case
    capability: URIRef | None = None  # a class, see capability_classes
    min_parameters: int | None = None
    max_parameters: int | None = None
    open_weights: bool | None = None
    search: str | None = None  # text in label or description, any case

    def clauses_and_bindings(self) -> tuple[list[str], dict[str, Identifier]]:
        """The FILTER clauses the present filters need, and the values they are bound to."""
        given: dict[str, dict[str, Identifier]] = {}
        if self.kind is not None:
            given["kind"] = {"fKind": LISTED_KINDS[self.kind]}
        if self.portable is not None:
            given[f"portable={self.portable}"] = {}
        if self.cheap_to_fine_tune is not None:
            given[f"cheapToFineTune={self.cheap_to_fine_tune}"] = {}
        if self.fast is not None:
            given[f"fast={self.fast}"] = {}
        if self.developer:
            name = self.developer.strip()
            given["developer"] = {"fDeveloper": Literal(name), "fDeveloperIri": ORG[slugify(name)]}
        if self.capability is not None:
            given["capability"] = {"fCapability": self.capability}
        if self.min_parameters is not None:
            given["minParameters"] = {"fMin": Literal(self.min_parameters)}
        if self.max_parameters is not None:
            given["maxParameters"] = {"fMax": Literal(self.max_parameters)}
        if self.open_weights is not None:
            given["openWeights"] = {"fOpen": Literal(self.open_weights)}
        if self.search:
            given["search"] = {"fSearch": Literal(self.search.strip())}
        bindings: dict[str, Identifier] = {}
        for values in given.values():
            bindings.update(values)
        return [_FILTERS[name] for name in given], bindings


@dataclass(frozen=True)
class ModelSummary:
    """One model as GET /models lists it."""

    id: str
    iri: str
    label: str
    kind: str
    parameter_count: int | None
    developer: list[str]
    release_date: str | None
    license: str | None
    open_weights: bool | None
    portable: bool | None  # None: unknown
    cheap_to_fine_tune: bool | None
    fast: bool | None
    bases: dict[str, str]  # each verdict's basis: "observation", "size-rule" or "none" (unknown)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "iri": self.iri,
            "label": self.label,
            "kind": self.kind,
            "parameterCount": self.parameter_count,
            "developer": self.developer,
            "releaseDate": self.release_date,
            "license": self.license,
            "openWeights": self.open_weights,
            "portable": self.portable,
            "cheapToFineTune": self.cheap_to_fine_tune,
            "fast": self.fast,
            "bases": self.bases,
        }


@dataclass(frozen=True)
class ModelPage:
    """One page of models and how many match in all."""

    total: int
    models: list[ModelSummary]


def _python(value: Identifier | None) -> Any:
    return value.toPython() if isinstance(value, Literal) else None


def _date(value: Identifier | None) -> str | None:
    python = _python(value)
    if isinstance(python, datetime):
        return python.date().isoformat()
    if isinstance(python, date):
        return python.isoformat()
    return str(value) if value is not None else None


def _verdict(value: Identifier | None) -> bool | None:
    python = _python(value)
    return python if isinstance(python, bool) else None


def _summary(row: dict[str, Identifier]) -> ModelSummary:
    iri = str(row["model"])
    model_id = model_id_of(iri) or iri
    kind = next((name for name, cls in LISTED_KINDS.items() if row.get("kind") == cls), "")
    open_weights = _python(row.get("open"))
    count = _python(row.get("size"))
    licence = row.get("licence")
    return ModelSummary(
        id=model_id,
        iri=iri,
        label=str(row.get("name") or model_id),
        kind=kind,
        parameter_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        developer=sorted({d for d in str(row.get("developers") or "").split("\u001f") if d}),
        release_date=_date(row.get("released")),
        license=str(licence) if licence is not None else None,
        open_weights=open_weights if isinstance(open_weights, bool) else None,
        portable=_verdict(row.get("portable")),
        cheap_to_fine_tune=_verdict(row.get("cheap")),
        fast=_verdict(row.get("fast")),
        bases={
            name: str(row.get(key) or "none")
            for name, key in (("portable", "pBasis"), ("cheapToFineTune", "cBasis"), ("fast", "fBasis"))
        },
    )


def list_queries(
    filters: ModelFilter, *, sort: str = "label", descending: bool = False, limit: int = 50, offset: int = 0
) -> tuple[str, str, dict[str, Identifier]]:
    """The count query, the page query and their bindings that answer a GET /models question."""
    if sort not in _SORT_VARIABLES:
        raise ValueError(f"cannot sort by {sort!r}; sort by one of {', '.join(SORT_KEYS)}")
    if limit < 1 or offset < 0:
        raise ValueError("limit must be at least 1 and offset at least 0")
    clauses, bindings = filters.clauses_and_bindings()
    where = _MATCH + "".join(f"  {clause}\n" for clause in clauses)
    key = _SORT_VARIABLES[sort]
    direction = "DESC" if descending else "ASC"
    if sort == "label":
        key = "?nameKey"  # alphabetical, not upper case before lower case
    # Models without a value (an undisclosed size, say) come last either way; ties by id.
    order = f"ASC(IF(BOUND({_SORT_VARIABLES[sort]}), 0, 1)) {direction}({key}) ASC(?model)"
    page = _PREFIXES + _SUMMARY % (where, order, int(limit), int(offset))
    return _PREFIXES + _COUNT % where, page, bindings


def find_models(
    store: Store,
    filters: ModelFilter,
    *,
    sort: str = "label",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> ModelPage:
    """The models that pass `filters`, sorted and paged by the engine, with their total count.

    GET /models answers from the read index (lmkg.readindex); this is the reference it is
    tested against (tests/test_readindex.py)."""
    count, page, bindings = list_queries(
        filters, sort=sort, descending=descending, limit=limit, offset=offset
    )
    counted = store.select(count, bindings=bindings)
    total = int(_python(counted[0].get("n")) or 0) if counted else 0
    rows = store.select(page, bindings=bindings)
    return ModelPage(total, [_summary(row) for row in rows])


def capability_classes(classifier: Classifier) -> dict[str, URIRef]:
    """The classes GET /models filters by `capability`, by name: every lmkg subclass of
    lmkg:LanguageModel in the ontology but the two kinds, which `kind` filters by."""
    namespace = str(LMKG._NS)
    kinds = set(LISTED_KINDS.values())
    return {
        str(cls)[len(namespace) :]: cls
        for cls, supers in sorted(classifier.class_supers.items())
        if str(cls).startswith(namespace) and LMKG.LanguageModel in supers and cls not in kinds
    }


@dataclass(frozen=True)
class SourceClaim:
    """What a source says about a model or its family, in its words, with the curator's note."""

    about: str
    text: str
    claimed_kind: str | None
    curator_note: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "claimedKind": self.claimed_kind,
            "curatorNote": self.curator_note,
            "about": self.about,
        }


def source_claims(store: Store, model_id: str) -> list[SourceClaim]:
    """Claims in the source graphs about the model or the family it is a variant of."""
    rows = store.select(
        _PREFIXES + _CLAIMS,
        bindings={"model": model_iri(model_id), "sourceGraphs": URIRef(str(GRAPH_SOURCE_NS))},
    )
    return [_claim(row) for row in rows]


def claims_from_rows(rows: Iterable[Row]) -> list[SourceClaim]:
    """The claims among rows of CLAIMS_PATTERN (rows without ?text are skipped), distinct and
    in the order source_claims gives them."""
    found = {_claim(row) for row in rows if row.get("text") is not None}
    return sorted(found, key=lambda c: (c.about, c.text, c.claimed_kind or "", c.curator_note or ""))


def _claim(row: Row) -> SourceClaim:
    return SourceClaim(
        about=str(row["about"]),
        text=str(row["text"]),
        claimed_kind=str(row["claimedKind"]) if row.get("claimedKind") is not None else None,
        curator_note=str(row["curatorNote"]) if row.get("curatorNote") is not None else None,
    )
