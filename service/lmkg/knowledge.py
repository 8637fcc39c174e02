"""The knowledge graph: the store with the ontology, shapes and classifier around it.

Every write goes through here, whether it comes from the CLI, the HTTP API or
an importer: JSON or RDF -> entry graph -> SHACL validation -> classification
-> one atomic write of the entry graph and its inferred triples.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from lmkg.config import Settings
from lmkg.entries import Entry, with_provenance
from lmkg.errors import ConflictError, NotFoundError, StoreBusyError, StoreError
from lmkg.evidence import TRAITS, Verdict, add_verdicts, verdicts
from lmkg.graphindex import IndexedTriples, Triples, TripleSet
from lmkg.ontology import entry_subjects, ontology_graph, split_examples
from lmkg.queries import QueryCatalogue
from lmkg.readindex import ChangeRecord, ReadIndex, change_record, index_path, is_change_graph
from lmkg.reasoning import Classification, Classifier, HermitResult, run_hermit
from lmkg.store import GraphWrite, Store
from lmkg.validation import Severity, ValidationReport, ValidationResult, Validator
from lmkg.vocab import (
    GRAPH_INFERRED,
    GRAPH_MODEL,
    GRAPH_ONTOLOGY,
    GRAPH_SOURCE,
    LMKG,
    VERDICT,
    model_graph,
    model_id_of,
    model_iri,
)

log = logging.getLogger("lmkg.knowledge")

_TYPE = RDF.type  # DefinedNamespace attributes cost a microsecond each: read once


class WriteMode(StrEnum):
    CREATE = "create"  # refuse an id that exists (POST)
    REPLACE = "replace"  # refuse an id that does not exist (PUT)
    UPSERT = "upsert"  # either (seeding, import)


@dataclass
class Assessment:
    """An entry after validation and classification: the report, and what was concluded."""

    entry: Entry
    report: ValidationReport
    classification: Classification | None

    @property
    def ok(self) -> bool:
        return self.report.conforms

    def inferred_graph(self) -> Graph:
        graph = Graph()
        self.add_inferred(graph)
        return graph

    @property
    def verdicts(self) -> dict[str, Verdict]:
        """The entry's three verdicts, from its evidence and the classes the reasoner concluded."""
        types = self.classification.types if self.classification is not None else frozenset()
        return verdicts(IndexedTriples(self.entry.index), self.entry.iri, types)

    def add_inferred(self, graph: Triples) -> None:
        """Add what was inferred about the entry to `graph`: its classes and its verdicts."""
        if self.classification is not None:
            subject = self.classification.subject
            for cls in self.classification.inferred:
                graph.add((subject, _TYPE, cls))
            add_verdicts(graph, subject, self.verdicts)


def inferred_subjects_of(model_id: str) -> set[URIRef]:
    """The subjects of the inferred graph that belong to one entry: the model and its verdicts,
    all replaced when the entry is."""
    return {model_iri(model_id)} | {VERDICT[f"{model_id}/{trait.name}"] for trait in TRAITS}


@dataclass
class WriteOutcome:
    """What a batch write did."""

    written: list[Assessment] = field(default_factory=list)  # valid: written unless not committed
    rejected: list[Assessment] = field(default_factory=list)
    committed: bool = False  # whether the valid entries were written


_COUNT_MODELS = """
SELECT (COUNT(DISTINCT ?model) AS ?n) WHERE { ?model a ?kind . VALUES ?kind { <%s> <%s> <%s> } }
""" % (LMKG.LargeLanguageModel, LMKG.SmallLanguageModel, LMKG.LanguageModelOfUnknownKind)

_EXISTING = "ASK { GRAPH ?g { ?s ?p ?o } }"

_INFERRED_TYPES = "SELECT ?class WHERE { GRAPH ?inferred { ?model a ?class } }"

# Every graph is searched (GRAPH ?g): organisations travel with the entries that name them.
_ORGANISATION_NAMES = "SELECT ?org ?name WHERE { GRAPH ?g { ?org a <%s> ; <%s> ?name } }" % (
    LMKG.Organisation,
    RDFS.label,
)


_COLLECT_EVERY = 5
"""Batches between two garbage collections in write_batches, when a batch import has paused the
collector: a collection walks the whole heap (0.1 s with 100,000 documents in memory), and five
batches of garbage are some tens of MB."""


def organisations_named(entries: Iterable[Entry]) -> dict[URIRef, Literal]:
    """The organisations that entries describe with a name: what an entry of the same batch may
    name by IRI alone."""
    found: dict[URIRef, Literal] = {}
    for entry in entries:
        for org, by_predicate in entry.index.items():
            if isinstance(org, URIRef) and LMKG.Organisation in by_predicate.get(_TYPE, ()):
                for name in by_predicate.get(RDFS.label, ()):
                    if isinstance(name, Literal):
                        found.setdefault(org, name)
    return found


class KnowledgeGraph:
    """The store plus everything needed to validate, classify and write entries."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.ontology = ontology_graph(settings.ontology_dir)
        self.classifier = Classifier(self.ontology)
        self.validator = Validator(settings.shapes_dir, self.classifier.class_supers)
        self.queries = QueryCatalogue(settings.queries_dir)
        self._write_lock = threading.Lock()
        self._read_index: ReadIndex | None = None
        self._read_index_lock = threading.Lock()

    @property
    def store_description(self) -> str:
        location = getattr(self.store, "location", None)
        return f"{type(self.store).__name__}({location})" if location else type(self.store).__name__

    # -- the read index (derived state: lmkg.readindex) ------------------------------

    @property
    def read_index(self) -> ReadIndex:
        """The read index of this store, brought up to date with the store's last change."""
        index = self._open_read_index()
        index.sync()
        return index

    def _open_read_index(self) -> ReadIndex:
        with self._read_index_lock:
            if self._read_index is None:
                self._read_index = ReadIndex(index_path(self.settings), self.store)
            return self._read_index

    def reindex(self) -> int:
        """Rebuild the read index from the store (`lmkg reindex`); the number of models indexed."""
        return self._open_read_index().rebuild()

    def last_change(self) -> str:
        """The change log's last change (lmkg.readindex): it moves with every write through
        lmkg, by this service or another on the same store."""
        return self._open_read_index().head()[0]

    def _change_record(self, entries: Iterable[URIRef], *, every_entry: bool = False) -> ChangeRecord:
        """The change log's part of a write (lmkg.readindex.change_record), pruned from where
        the head says it was, and following the head's last change: read here, under the write
        lock, so that it only moves on."""
        last, pruned_before = self._open_read_index().head()
        return change_record(
            entries, every_entry=every_entry, pruned_before=pruned_before, follows=last or None
        )

    def _logged(self, write: GraphWrite, entries: Iterable[URIRef], *, every_entry: bool = False) -> GraphWrite:
        """`write` with its change record, head and expired minutes in the same transaction."""
        record = self._change_record(entries, every_entry=every_entry)
        write.add.update(record.add)
        write.replace.update({**record.head, **record.drop})
        return write

    def _index_written(self) -> None:
        """After a write is committed and before it is acknowledged: the index takes it in.

        The write is applied already, so a store too busy to answer the index's catch-up
        (StoreBusyError, StoreUnavailableError) must not turn it into a 503 that invites a
        retry: the change log holds the write, and the next read's sync takes it in."""
        try:
            self._open_read_index().sync(taking_in=True)
        except (StoreError, StoreBusyError) as exc:
            try:
                owed = self.store.completed_generation()
            except Exception:  # not known: every read syncs from now on
                owed = None
            self._open_read_index().owe(owed)
            log.warning("the read index will take in a committed write at the next read: %s", exc)

    def update(
        self,
        update: str,
        *,
        base_iri: str | None = None,
        using_graph_uris: Sequence[str] = (),
        using_named_graph_uris: Sequence[str] = (),
    ) -> None:
        """Run a SPARQL Update on the store, then tell read indexes that any entry may have changed.

        The change record is a second request: were the process to die between the two, the
        indexes would not learn of the update until `lmkg reindex`.
        """
        with self._acknowledging():  # reads go on while the index rebuilds (minutes at 100,000)
            self.store.update(
                update,
                base_iri=base_iri,
                using_graph_uris=using_graph_uris,
                using_named_graph_uris=using_named_graph_uris,
            )
            self.store.write(self._logged(GraphWrite(), (), every_entry=True))
            self._index_written()

    # -- seeding -----------------------------------------------------------------

    def ensure_seeded(self) -> bool:
        """Load the ontology and examples into an empty store; True when it seeded."""
        # One ASK, not the list of every graph's name: a store of 100,000 entries has as many.
        if self.store.ask(_EXISTING, bindings={"g": GRAPH_ONTOLOGY}):
            return False
        self.seed()
        return True

    def tbox_inferences(self) -> Graph:
        """The class hierarchy as the reasoner entails it, for the inferred graph."""
        graph = Graph()
        for cls, supers in self.classifier.class_supers.items():
            for sup in supers:
                graph.add((cls, RDFS.subClassOf, sup))
        return graph

    def seed(self) -> WriteOutcome:
        """(Re)load the ontology, the source graph and the examples.

        The ontology graph goes in last: ensure_seeded takes it to mean the store is seeded,
        so a process killed part way through seeding leaves a store that is seeded again
        (every step replaces what it writes) instead of one without its examples.
        """
        tbox = self.tbox_inferences()
        self.store.write(
            GraphWrite(inferred_subjects={s for s in tbox.subjects() if isinstance(s, URIRef)}, inferred=tbox)
        )
        outcome = WriteOutcome()
        if self.settings.seed_examples:
            graphs = split_examples(self.settings.ontology_dir)
            self.store.load_graph(GRAPH_SOURCE, graphs.pop(GRAPH_SOURCE))
            entries = [Entry(str(iri)[len(str(GRAPH_MODEL)) :], graph) for iri, graph in graphs.items()]
            outcome = self.write(entries, mode=WriteMode.UPSERT)
            if outcome.rejected:
                problems = "; ".join(a.report.as_text() for a in outcome.rejected)
                raise ValueError(f"ontology/examples.ttl does not conform: {problems}")
        self.store.load_graph(GRAPH_ONTOLOGY, self.ontology)
        # The source graph was loaded beside the write path: read indexes project everything again.
        self.store.write(self._logged(GraphWrite(), (), every_entry=True))
        self._index_written()
        return outcome

    # -- validation and classification -----------------------------------------

    def assess(
        self,
        entry: Entry,
        *,
        batch_ids: frozenset[str] = frozenset(),
        batch_organisations: Mapping[URIRef, Literal] | None = None,
    ) -> Assessment:
        """Validate an entry with the shapes and classify it with the fast path; nothing is
        written. Organisations it names by IRI alone are described first, from the other entries
        of its batch (`organisations_named(batch)`) or the store: see _resolve_organisations."""
        unknown = self._resolve_organisations(entry, batch_organisations or {})
        index = entry.index  # read once, for both; a Graph only if pySHACL must report
        report = self.validator.validate_indexed(index, lambda: entry.graph)
        classification = self.classifier.classify(None, entry.iri, index=index)
        extra: list[ValidationResult] = []
        for problem in classification.inconsistencies:
            extra.append(
                ValidationResult(
                    focus_node=str(entry.iri),
                    path=None,
                    value=None,
                    message=f"The entry contradicts the ontology: {problem}.",
                    severity=Severity.VIOLATION,
                    constraint=str(OWL.Nothing),
                    shape=None,
                )
            )
        extra.extend(self._dangling_links(entry, batch_ids))
        extra.extend(unknown)
        if extra:
            # An unknown organisation is said once, by name, not also as the shape's "needs a developer".
            unresolved = {r.value for r in unknown}
            results = [
                r for r in report.results if not (r.path == str(LMKG.developedBy) and r.value in unresolved)
            ]
            report = ValidationReport(False, results + extra, report.report_graph)
        return Assessment(entry, report, classification)

    def organisation_name(self, org: URIRef) -> Literal | None:
        """The name the store gives an organisation (the first, if entries gave it several)."""
        rows = self.store.select(_ORGANISATION_NAMES, bindings={"org": org})
        names = sorted(n for row in rows if isinstance(n := row.get("name"), Literal))
        return names[0] if names else None

    def _resolve_organisations(
        self, entry: Entry, batch_organisations: Mapping[URIRef, Literal]
    ) -> list[ValidationResult]:
        """Describe in the entry each organisation it names by IRI alone (lmkg:developedBy with
        no rdfs:label in the document), with the name the store, or another entry of the
        batch, gives it; the ones neither knows, as problems that name them.

        The name is copied into the entry graph, as a developer named in JSON is: an entry
        reads alone (GET /models/{id}) and keeps the name if the entry that gave it goes.
        """
        problems = []
        index = entry.index
        named = sorted({o for o in index.get(entry.iri, {}).get(LMKG.developedBy, ()) if isinstance(o, URIRef)})
        for org in named:
            if index.get(org, {}).get(RDFS.label):
                continue  # described here: the shapes check the description
            name = batch_organisations.get(org) or self.organisation_name(org)
            if name is None:
                problems.append(
                    ValidationResult(
                        str(entry.iri),
                        str(LMKG.developedBy),
                        str(org),
                        f"The developer <{org}> is not an organisation of the knowledge graph: name "
                        "an organisation it holds by its IRI, or give this one's name (JSON: "
                        f'"developer": "Its Name"; RDF: <{org}> rdfs:label "Its Name").',
                        Severity.VIOLATION,
                        str(LMKG.Organisation),
                        None,
                    )
                )
                continue
            entry.add((org, _TYPE, LMKG.Organisation))
            entry.add((org, _TYPE, OWL.NamedIndividual))
            entry.add((org, RDFS.label, name))
        return problems

    def _dangling_links(self, entry: Entry, batch_ids: frozenset[str]) -> list[ValidationResult]:
        problems = []
        for prop, field_name in ((LMKG.variantOf, "variantOf"), (LMKG.fineTunedFrom, "fineTunedFrom")):
            for target in list(entry.index.get(entry.iri, {}).get(prop, ())):
                target_id = model_id_of(str(target))
                if target_id is None:
                    message = (
                        f"'{field_name}' names <{target}>, which is not a model of the knowledge graph "
                        f"(<{model_iri('')}ID>)."
                    )
                elif target_id == entry.id:
                    message = f"An entry cannot name itself in '{field_name}'."
                elif target_id in batch_ids or self.exists(target_id):
                    continue
                else:
                    message = (
                        f"'{field_name}' names the model '{target_id}' (<{target}>), which is not in "
                        "the knowledge graph; add that model first."
                    )
                problems.append(
                    ValidationResult(
                        str(entry.iri),
                        str(prop),
                        str(target),
                        message,
                        Severity.VIOLATION,
                        str(OWL.ObjectProperty),
                        None,
                    )
                )
        return problems

    # -- reading -------------------------------------------------------------------

    def exists(self, model_id: str) -> bool:
        return self.store.ask(_EXISTING, bindings={"g": model_graph(model_id)})

    def entry_graph(self, model_id: str) -> Graph:
        graph = self.store.graph(model_graph(model_id))
        if not len(graph):
            raise NotFoundError(f"There is no model with id '{model_id}'.")
        return graph

    def inferred_types(self, model_id: str) -> list[URIRef]:
        rows = self.store.select(
            _INFERRED_TYPES, bindings={"model": model_iri(model_id), "inferred": GRAPH_INFERRED}
        )
        return sorted(row["class"] for row in rows if isinstance(row.get("class"), URIRef))  # type: ignore[misc]

    def count_models(self) -> int:
        rows = self.store.select(_COUNT_MODELS)
        value = rows[0].get("n") if rows else None
        return int(value.toPython()) if isinstance(value, Literal) else 0

    # -- writing -------------------------------------------------------------------

    def write(
        self,
        entries: Sequence[Entry],
        *,
        mode: WriteMode,
        stamp: bool = True,
        all_or_nothing: bool = False,
        known_ids: frozenset[str] = frozenset(),
    ) -> WriteOutcome:
        """Validate and classify every entry; write the valid ones in one transaction.

        With `all_or_nothing`, one invalid entry means nothing is written.

        With mode CREATE or REPLACE a single entry that exists (or does not) raises
        ConflictError or NotFoundError before anything is written.
        """
        outcome = self._assess_all(entries, known_ids=known_ids)
        if not outcome.written or (all_or_nothing and outcome.rejected):
            return outcome
        return self._commit(outcome, self._change(outcome, mode=mode, stamp=stamp), mode=mode)

    def write_batches(
        self,
        batches: Iterable[Sequence[Entry]],
        *,
        mode: WriteMode,
        stamp: bool = True,
        bulk_loader: bool = False,
    ) -> Iterator[WriteOutcome]:
        """`write` each batch in turn, each in a transaction of its own, yielding its outcome.

        A batch is validated and classified while the batch before it is being written: the
        store does its part of a write in another process (the engine, a SPARQL server) or
        in Rust without the GIL, so the two overlap. Links in a batch may name entries of
        the batch being written. The first write that fails raises, and nothing after it is
        written; a consumer that stops early stops after the write in progress.

        With `bulk_loader` each batch is a bulk write (GraphWrite.bulk): on the embedded store
        a batch of new entries goes through the engine's bulk loader, twice as fast and not
        atomic, so a failure in the middle of a batch can leave part of that batch written (the
        error says so; importing it again replaces its entries whole). Batches that replace
        entries, and every write on a remote store, are transactions as before. Not the
        default because it is not atomic (the Oxigraph server answers a store imported so
        nearly as fast as one imported in transactions: the guard's headline at 0.85x the
        comparison server against 0.96x; bench/RESULTS.md, "The third pass").

        The read index is not brought up to date batch by batch: catching up re-projects each
        batch's entries from the store, which took longer than validating, classifying and
        writing them (bench/RESULTS.md). Every batch is in the change log, so the first read
        after the import catches up with all of them.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="lmkg-writer") as writer:
            in_flight: Future[WriteOutcome] | None = None
            in_flight_ids: frozenset[str] = frozenset()
            for number, entries in enumerate(batches, start=1):
                outcome = self._assess_all(entries, known_ids=in_flight_ids)
                change = self._change(outcome, mode=mode, stamp=stamp)
                change.bulk = bulk_loader  # see GraphWrite.bulk
                if in_flight is not None:
                    yield in_flight.result()
                in_flight_ids = frozenset(a.entry.id for a in outcome.written)
                # The writer thread only waits on the store: work in Python is done here, as a
                # second thread doing it would wait for the GIL as long as it saved.
                in_flight = writer.submit(self._commit, outcome, change, mode=mode, sync_index=False)
                if number % _COLLECT_EVERY == 0 and not gc.isenabled():
                    # A batch import pauses the collector (lmkg.collector); rdflib graphs are
                    # reference cycles, so the batches written by now are freed here.
                    gc.collect()
            if in_flight is not None:
                yield in_flight.result()

    def _assess_all(self, entries: Sequence[Entry], *, known_ids: frozenset[str]) -> WriteOutcome:
        batch_ids = frozenset(e.id for e in entries) | known_ids  # links may point to these
        organisations = organisations_named(entries)
        outcome = WriteOutcome()
        for entry in entries:
            assessment = self.assess(entry, batch_ids=batch_ids, batch_organisations=organisations)
            (outcome.written if assessment.ok else outcome.rejected).append(assessment)
        return outcome

    def _change(self, outcome: WriteOutcome, *, mode: WriteMode, stamp: bool) -> GraphWrite:
        """The one transaction that writes an assessed batch's valid entries (stamped when
        `stamp`) and their inferred triples, with the conditions the store checks with it."""
        change = GraphWrite(inferred=TripleSet())
        # Checked again by the store with the write itself: another process sharing the
        # engine may have written the same id since the checks in _commit.
        for assessment in outcome.written:
            model_id = assessment.entry.id
            if mode is WriteMode.CREATE:
                change.require_absent[model_graph(model_id)] = (
                    f"A model with id '{model_id}' exists already; PUT /models/{model_id} replaces it."
                )
            elif mode is WriteMode.REPLACE:
                change.require_present[model_graph(model_id)] = (
                    f"There is no model with id '{model_id}' to replace; POST /models creates one."
                )
        recorded_at = datetime.now(UTC)  # one transaction, one moment
        for assessment in outcome.written:
            entry = with_provenance(assessment.entry, recorded_at=recorded_at) if stamp else assessment.entry
            change.replace[model_graph(entry.id)] = entry.triples
            change.inferred_subjects.update(inferred_subjects_of(entry.id))
            assessment.add_inferred(change.inferred)
        return change

    def _commit(
        self, outcome: WriteOutcome, change: GraphWrite, *, mode: WriteMode, sync_index: bool = True
    ) -> WriteOutcome:
        """Write an assessed batch's change, after the checks its mode asks for.

        Two transactions: the entries, their inferred triples and the change graph naming them
        (lmkg.readindex's change log) in one, then the change log's head, which tells read
        indexes to look, moved to it (with expired change graphs dropped). The first adds
        only, for new entries, so the embedded store loads it as N-Quads; one that also
        removed the head would be a SPARQL Update, which the engine parses and applies 2-3
        times slower. A process killed between the two leaves whole entries written and the
        head where it was: an index learns of them at the next write, which moves the head
        again (an index reads every change stamped since the last it applied, not the head
        alone); the write was never acknowledged.

        With `sync_index` False (a bulk import) the read index is not brought up to date
        here: the next read does it, from the change log.
        """
        if not outcome.written:
            return outcome
        with self._acknowledging(sync_index):
            self._commit_locked(outcome, change, mode=mode)
            if sync_index:
                self._index_written()
            else:
                self._open_read_index().owe(self.store.completed_generation())
        return outcome

    def _acknowledging(self, taken_in: bool = True) -> AbstractContextManager[None]:
        """Around a write that the read index takes in before it is acknowledged (ReadIndex.acknowledging)."""
        return self._open_read_index().acknowledging() if taken_in else nullcontext()

    def _commit_locked(self, outcome: WriteOutcome, change: GraphWrite, *, mode: WriteMode) -> None:
        with self._write_lock:
            for assessment in outcome.written:
                model_id = assessment.entry.id
                if mode is WriteMode.CREATE and self.exists(model_id):
                    raise ConflictError(
                        f"A model with id '{model_id}' exists already; PUT /models/{model_id} replaces it."
                    )
                if mode is WriteMode.REPLACE and not self.exists(model_id):
                    raise NotFoundError(
                        f"There is no model with id '{model_id}' to replace; POST /models creates one."
                    )
            record = self._change_record(sorted(model_iri(a.entry.id) for a in outcome.written))
            change.add.update(record.add)
            self.store.write(change)
            outcome.committed = True
            self.store.write(GraphWrite(replace={**record.head, **record.drop}))

    def delete(self, model_id: str) -> None:
        """Remove an entry and what was inferred from it, in one transaction."""
        with self._acknowledging():
            with self._write_lock:
                if not self.exists(model_id):
                    raise NotFoundError(f"There is no model with id '{model_id}'.")
                self.store.write(
                    self._logged(
                        GraphWrite(
                            replace={model_graph(model_id): Graph()},
                            inferred_subjects=inferred_subjects_of(model_id),
                            require_present={model_graph(model_id): f"There is no model with id '{model_id}'."},
                        ),
                        [model_iri(model_id)],
                    )
                )
            self._index_written()

    # -- whole-graph reasoning (HermiT) -------------------------------------------

    def data_graphs(self) -> list[Graph]:
        """Every graph but the inferred one: what the reasoner starts from."""
        return [
            self.store.graph(name)
            for name in self.store.graph_names()
            if name != GRAPH_INFERRED and not is_change_graph(name)
        ]

    def reason(self, *, write: bool = True) -> HermitResult:
        """Classify everything with HermiT and, when it is consistent, rebuild the inferred graph."""
        graphs = self.data_graphs()
        result = run_hermit(graphs)
        if not result.consistent or not write:
            return result
        asserted = Graph()
        for graph in graphs:
            asserted += graph
        inferred = Graph()
        subjects: set[URIRef] = set()
        for subject in entry_subjects(asserted):
            subjects.add(subject)
            told = set(asserted.objects(subject, RDF.type))
            concluded = result.types.get(subject, frozenset())
            for cls in concluded:
                if cls not in told:
                    inferred.add((subject, RDF.type, cls))
            # The verdicts from HermiT's size-rule classes, as the fast path's are written.
            told_classes = {t for t in told if isinstance(t, URIRef)}
            add_verdicts(inferred, subject, verdicts(asserted, subject, concluded | told_classes))
        for cls, supers in result.class_supers.items():
            subjects.add(cls)
            for sup in supers:
                inferred.add((cls, RDFS.subClassOf, sup))
        self.store.write(self._logged(GraphWrite(replace={GRAPH_INFERRED: inferred}), (), every_entry=True))
        self._index_written()
        return result


def entries_in(graph: Graph) -> Iterable[Entry]:
    """Split a graph describing several models into one Entry per model."""
    from lmkg.ontology import entry_graph_of
    from lmkg.vocab import model_id_of

    for subject in entry_subjects(graph):
        model_id = model_id_of(str(subject))
        if model_id:
            entry = entry_graph_of(graph, subject)
            entry.add((subject, RDF.type, OWL.NamedIndividual))
            yield Entry(model_id, entry)
