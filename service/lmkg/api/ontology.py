"""GET /ontology: the published ontology by content negotiation, HTML documentation included."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException, Query, Request, Response
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from lmkg.api.deps import KGDep
from lmkg.ontology import EXPORT_FORMATS, export_ontology
from lmkg.vocab import LMKG, ONTOLOGY_IRI, VANN

router = APIRouter(tags=["ontology"])

_BY_MEDIA_TYPE = {media: name for name, (_, media, _) in EXPORT_FORMATS.items()}
_OFFERED = [
    "text/turtle",
    "text/html",
    "application/rdf+xml",
    "application/ld+json",
    "application/n-triples",
    "application/owl+xml",
]


def _text(graph: Graph, subject: URIRef, prop: URIRef) -> str:
    value = graph.value(subject, prop)
    return str(value) if value is not None else ""


def _link(graph: Graph, term: URIRef) -> str:
    label = escape(_text(graph, term, RDFS.label) or str(term))
    if str(term).startswith(str(LMKG._NS)):
        return f'<a href="#{escape(term.fragment)}">{label}</a>'
    return f'<a href="{escape(str(term))}">{label}</a>'


_RULE_CLASSES = (
    ("portable", "FitsLaptopAt4Bit", "ExceedsLaptopAt4Bit"),
    ("cheap to fine-tune", "QLoRAFitsConsumerGPU", "QLoRAExceedsConsumerGPU"),
    ("fast", "ActiveParametersUnderSizeThreshold", "ActiveParametersOverSizeThreshold"),
)


def _evidence_model(graph: Graph) -> str:
    """The section that explains the evidence model: verdicts, their bases, the rules and their sources."""
    rows = []
    for trait, yes, no in _RULE_CLASSES:
        formula = _text(graph, LMKG[yes], LMKG.ruleFormula)
        rows.append(
            f"<tr><td>{escape(trait)}</td><td><a href='#{yes}'>lmkg:{yes}</a> / <a href='#{no}'>lmkg:{no}</a></td>"
            f"<td>{escape(formula)}</td></tr>"
        )
    devices = []
    for device in sorted(graph.subjects(LMKG.memoryBudgetBytes, None), key=str):
        budget = graph.value(device, LMKG.memoryBudgetBytes)
        if not isinstance(device, URIRef) or not isinstance(budget, Literal):
            continue
        devices.append(
            f"<li>{escape(_text(graph, device, RDFS.label))}: {int(budget.toPython()) / 1e9:g} GB "
            f"({escape(_text(graph, device, SKOS.definition))})</li>"
        )
    return (
        "<h2 id='evidence-model'>The evidence model</h2>"
        "<p>A model's traits come from what is known about that model, never from its category. "
        "Each of three verdicts (portable, cheap to fine-tune, fast) is <em>true</em>, <em>false</em> or "
        "<em>unknown</em>, and carries its basis: an <strong>observation</strong> with its source (run on a "
        "phone or laptop; fine-tuned on consumer hardware), else a <strong>size rule</strong> below, else "
        "<strong>none</strong> (unknown: the model is in neither answer). What the source document says of "
        "large and small models is kept as its claims (lmkg:CategoryClaim), in its own words, hedges "
        "included, and shown as its view. Facts carry their sources as statements (lmkg:Statement): "
        "several sources side by side, the preferred value chosen by the rank rule of lmkg:sourceKind "
        "(curated &gt; paper or card &gt; Epoch &gt; Ecosystem Graphs &gt; source document; then confidence; "
        "then the later retrieval).</p>"
        "<table><tr><th>verdict</th><th>size rule (true / false)</th><th>rule and sources</th></tr>"
        + "".join(rows)
        + "</table><p>Device classes and the memory each offers:</p><ul>"
        + "".join(devices)
        + "</ul>"
    )


def html_documentation(graph: Graph, class_supers: dict[URIRef, frozenset[URIRef]]) -> str:
    """A self-contained HTML page documenting every class and property, from the ontology itself."""
    o = ONTOLOGY_IRI
    meta = [
        ("Ontology IRI", str(o)),
        ("Version IRI", _text(graph, o, OWL.versionIRI)),
        ("Version", _text(graph, o, OWL.versionInfo)),
        ("Licence", _text(graph, o, DCTERMS.license)),
        ("Creator", _text(graph, o, DCTERMS.creator)),
        ("Created", _text(graph, o, DCTERMS.created)),
        (
            "Preferred prefix",
            f"{_text(graph, o, VANN.preferredNamespacePrefix)}: "
            f"{_text(graph, o, VANN.preferredNamespaceUri)}",
        ),
    ]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(_text(graph, o, DCTERMS.title))}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:auto;padding:1rem;line-height:1.5}"
        "section{border-top:1px solid #ccc;padding:.5rem 0}code{background:#f4f4f4}</style></head><body>",
        f"<h1>{escape(_text(graph, o, DCTERMS.title))}</h1>",
        f"<p>{escape(_text(graph, o, DCTERMS.description))}</p><dl>",
    ]
    parts += [f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in meta]
    parts.append(
        "</dl><p>Other formats: <a href='?format=turtle'>Turtle</a>, "
        "<a href='?format=rdfxml'>RDF/XML</a>, <a href='?format=owlxml'>OWL/XML</a>, "
        "<a href='?format=jsonld'>JSON-LD</a>, <a href='?format=ntriples'>N-Triples</a>.</p>"
    )
    parts.append(_evidence_model(graph))
    kinds = [
        ("Classes", OWL.Class),
        ("Object properties", OWL.ObjectProperty),
        ("Data properties", OWL.DatatypeProperty),
        ("Annotation properties", OWL.AnnotationProperty),
    ]
    for title, kind in kinds:
        terms = sorted(
            t
            for t in graph.subjects(RDF.type, kind)
            if isinstance(t, URIRef) and str(t).startswith(str(LMKG._NS))
        )
        parts.append(f"<h2>{title}</h2>")
        for term in terms:
            parts.append(
                f"<section id='{escape(term.fragment)}'><h3>{escape(_text(graph, term, RDFS.label))} "
                f"<code>lmkg:{escape(term.fragment)}</code></h3>"
            )
            parts.append(f"<p>{escape(_text(graph, term, SKOS.definition))}</p><dl>")
            if kind == OWL.Class:
                supers = sorted(class_supers.get(term, frozenset()))
                subs = sorted(c for c, s in class_supers.items() if term in s)
                if supers:
                    parts.append(
                        "<dt>Superclasses</dt><dd>" + ", ".join(_link(graph, s) for s in supers) + "</dd>"
                    )
                if subs:
                    parts.append(
                        "<dt>Subclasses</dt><dd>" + ", ".join(_link(graph, s) for s in subs) + "</dd>"
                    )
            for label, prop in (
                ("Domain", RDFS.domain),
                ("Range", RDFS.range),
                ("Subproperty of", RDFS.subPropertyOf),
            ):
                values = [v for v in graph.objects(term, prop) if isinstance(v, URIRef)]
                if values:
                    parts.append(
                        f"<dt>{label}</dt><dd>" + ", ".join(_link(graph, v) for v in values) + "</dd>"
                    )
            for note in graph.objects(term, SKOS.note):
                parts.append(f"<dt>Note</dt><dd>{escape(str(note))}</dd>")
            for formula in graph.objects(term, LMKG.ruleFormula):
                parts.append(f"<dt>Rule</dt><dd>{escape(str(formula))}</dd>")
            for threshold in graph.objects(term, LMKG.thresholdParameters):
                if isinstance(threshold, Literal):
                    parts.append(f"<dt>Threshold</dt><dd>{int(threshold.toPython()):,} parameters</dd>")
            for budget in graph.objects(term, LMKG.memoryBudgetBytes):
                if isinstance(budget, Literal):
                    parts.append(f"<dt>Memory budget</dt><dd>{int(budget.toPython()) / 1e9:g} GB</dd>")
            for seen in graph.objects(term, RDFS.seeAlso):
                parts.append(f"<dt>See</dt><dd><a href='{escape(str(seen))}'>{escape(str(seen))}</a></dd>")
            parts.append("</dl></section>")
    parts.append("</body></html>")
    return "".join(parts)


@router.get(
    "/ontology",
    responses={
        200: {"content": {m: {} for m in _OFFERED}, "description": "The ontology"},
        406: {"description": "No acceptable format"},
    },
)
def read_ontology(
    request: Request,
    kg: KGDep,
    format: str | None = Query(None, description="turtle, rdfxml, owlxml, jsonld, ntriples or html"),
) -> Response:
    """The ontology in Turtle, RDF/XML, OWL/XML, JSON-LD, N-Triples or HTML, by Accept or ?format=."""
    if format is not None:
        if format == "html":
            media = "text/html"
        elif format in EXPORT_FORMATS:
            media = EXPORT_FORMATS[format][1]
        else:
            raise HTTPException(422, f"'format' must be one of html, {', '.join(EXPORT_FORMATS)}")
    else:
        from lmkg.api.negotiation import choose

        chosen = choose(request.headers.get("accept"), _OFFERED)
        if chosen is None:
            raise HTTPException(
                406, f"Cannot produce {request.headers.get('accept')}; offered: {', '.join(_OFFERED)}"
            )
        media = chosen
    if media == "text/html":
        return Response(
            html_documentation(kg.ontology, kg.classifier.class_supers),
            media_type="text/html; charset=utf-8",
            headers={"Vary": "Accept"},
        )
    body = export_ontology(kg.ontology, _BY_MEDIA_TYPE[media])
    return Response(body, media_type=media, headers={"Vary": "Accept"})


__all__ = ["html_documentation", "router"]
