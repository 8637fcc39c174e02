"""What the `lmkg` commands do, as plain functions (the CLI only parses and prints)."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.term import Identifier

from lmkg.config import Settings
from lmkg.entries import RDF_FORMATS, Entry, entry_from_json, entry_from_rdf, parse_json, parse_rdf
from lmkg.errors import EntryError, InputError, LmkgError
from lmkg.knowledge import Assessment, KnowledgeGraph, WriteMode, entries_in, organisations_named
from lmkg.ontology import export_ontology
from lmkg.store import OxigraphStore, Store, open_store, sparqltext
from lmkg.store.remote import plain_value, term_from_json
from lmkg.validation import ValidationReport


@contextmanager
def opened(settings: Settings) -> Iterator[KnowledgeGraph]:
    """The knowledge graph on the configured store, seeded on first use; the embedded store is
    opened in this process (nothing runs beside a command)."""
    store = open_store(settings, in_process=True)
    try:
        kg = KnowledgeGraph(store, settings)
        kg.ensure_seeded()
        yield kg
    finally:
        store.close()


# -- reading entry files -------------------------------------------------------


@dataclass
class FileEntries:
    """The entries read from one file, or why it could not be read."""

    path: Path
    entries: list[Entry] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def read_entry_file(path: Path) -> FileEntries:
    """Entries from a JSON file (an object or a list of them) or an RDF file (one or more models)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    body = path.read_bytes()
    result = FileEntries(path)
    try:
        if suffix == ".json":
            document = parse_json(body)
            items = document if isinstance(document, list) else [document]
            for index, item in enumerate(items):
                try:
                    result.entries.append(entry_from_json(item))
                except EntryError as exc:
                    prefix = f"[{index}]." if isinstance(document, list) else ""
                    result.problems.extend((prefix + f, m) for f, m in exc.problems)
        elif suffix in RDF_FORMATS:
            graph = parse_rdf(body, RDF_FORMATS[suffix])
            result.entries.extend(entries_in(graph))
            if not result.entries:
                result.entries.append(entry_from_rdf(graph))  # raises: says what is missing
        else:
            known = ", ".join(sorted(k for k in RDF_FORMATS if k.startswith("."))) + ", .json"
            raise InputError(f"{path}: cannot tell the format from the suffix {suffix!r}; use {known}")
    except EntryError as exc:
        result.problems.extend(exc.problems)
    return result


@dataclass
class EntriesOutcome:
    """Validation (and perhaps storage) of the entries of several files."""

    files: list[FileEntries]
    assessments: list[Assessment]
    stored: bool = False

    @property
    def conforms(self) -> bool:
        return all(not f.problems for f in self.files) and all(a.ok for a in self.assessments)

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(
                {
                    "conforms": self.conforms,
                    "stored": self.stored,
                    "files": [
                        {
                            "file": str(f.path),
                            "problems": [{"where": w, "message": m} for w, m in f.problems],
                        }
                        for f in self.files
                    ],
                    "entries": [
                        {
                            "id": a.entry.id,
                            **a.report.as_json(),
                            "inferred": sorted(str(c) for c in a.classification.inferred)
                            if a.classification
                            else [],
                            "verdicts": {name: v.as_json() for name, v in a.verdicts.items()},
                        }
                        for a in self.assessments
                    ],
                },
                indent=2,
            )
        if fmt == "turtle":
            merged = Graph()
            for a in self.assessments:
                if a.report.graph is not None:
                    merged += a.report.graph
            return str(merged.serialize(format="turtle"))
        lines: list[str] = []
        for f in self.files:
            for where, message in f.problems:
                lines.append(f"{f.path}: {where}: {message}")
        for a in self.assessments:
            if a.ok:
                inferred = sorted(
                    c.split("#")[-1] for c in (a.classification.inferred if a.classification else ())
                )
                lines.append(f"{a.entry.id}: conforms; inferred: {', '.join(inferred) or 'nothing'}")
                for name, verdict in a.verdicts.items():
                    said = {True: "yes", False: "no", None: "unknown"}[verdict.value]
                    lines.append(f"  {name}: {said} ({verdict.basis}): {verdict.detail}")
            else:
                lines.append(f"{a.entry.id}: does not conform")
                lines.extend("  " + r.as_text() for r in a.report.results)
        summary = "all entries conform" if self.conforms else "some entries do not conform"
        if self.stored:
            summary += f"; stored {len(self.assessments)} entr{'y' if len(self.assessments) == 1 else 'ies'}"
        elif not self.conforms and self.assessments:
            summary += "; nothing was stored"
        lines.append(summary)
        return "\n".join(lines)


def validate_files(settings: Settings, paths: Sequence[Path]) -> EntriesOutcome:
    """Validate and classify entries against the ontology and examples, storing nothing."""
    files = [read_entry_file(p) for p in paths]
    entries = [e for f in files for e in f.entries]
    store = OxigraphStore()
    try:
        kg = KnowledgeGraph(store, settings)
        kg.ensure_seeded()
        batch = frozenset(e.id for e in entries)
        organisations = organisations_named(entries)
        assessments = [kg.assess(e, batch_ids=batch, batch_organisations=organisations) for e in entries]
    finally:
        store.close()
    return EntriesOutcome(files, assessments)


def load_files(settings: Settings, paths: Sequence[Path]) -> EntriesOutcome:
    """Validate, classify and store the entries of files: all of them, or none when one fails."""
    files = [read_entry_file(p) for p in paths]
    entries = [e for f in files for e in f.entries]
    with opened(settings) as kg:
        if any(f.problems for f in files):
            batch = frozenset(e.id for e in entries)
            organisations = organisations_named(entries)
            return EntriesOutcome(
                files, [kg.assess(e, batch_ids=batch, batch_organisations=organisations) for e in entries]
            )
        outcome = kg.write(entries, mode=WriteMode.UPSERT, all_or_nothing=True)
        assessments = outcome.written + outcome.rejected
        return EntriesOutcome(files, assessments, stored=outcome.committed)


_BETWEEN_ITEMS = re.compile(r"[\s,]*")


def json_items(path: Path, *, chunk: int = 1 << 20) -> Iterator[Any]:
    """The items of a JSON array in a file (or the one object a file holds), one at a time,
    read `chunk` characters at a time: a million entries need not be in memory at once. A
    position moves through the buffer (cutting the buffer after each item copied it, 0.17 ms
    an entry of a 100k import). Malformed JSON raises InputError with the character it is at.
    Checked for separators only as far as the decoder needs: `[{...} {...}]` is read too."""
    decoder = json.JSONDecoder()
    consumed = 0  # characters of the file dropped from the front of the buffer

    def refused(exc: json.JSONDecodeError) -> InputError:
        return InputError(f"{path}: not valid JSON at character {consumed + exc.pos}: {exc.msg}")

    with path.open(encoding="utf-8") as stream:
        buffer = stream.read(chunk)
        at = len(buffer) - len(buffer.lstrip())
        if buffer.startswith("{", at):
            try:
                yield json.loads(buffer + stream.read())
            except json.JSONDecodeError as exc:
                raise refused(exc) from exc
            return
        if not buffer.startswith("[", at):
            raise InputError(f"{path}: expected a JSON array of entries (or one entry, an object)")
        at += 1
        while True:
            at = _BETWEEN_ITEMS.match(buffer, at).end()  # type: ignore[union-attr]
            if len(buffer) - at < chunk // 4:
                consumed += at
                buffer, at = buffer[at:] + stream.read(chunk), 0
            if buffer.startswith("]", at):
                return
            try:
                item, at = decoder.raw_decode(buffer, at)
            except json.JSONDecodeError as exc:
                more = stream.read(chunk)
                if not more:
                    raise refused(exc) from exc
                consumed += at
                buffer, at = buffer[at:] + more, 0
                continue
            yield item


@dataclass
class BatchLoadOutcome:
    """A load in batches (`lmkg load --batch-size N`): how many entries were stored, and those
    that were not, with why."""

    stored: int = 0
    batches: int = 0
    seconds: float = 0.0
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, message): items not read
    rejected: list[Assessment] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not self.problems and not self.rejected

    def render(self) -> str:
        lines = [f"{where}: {message}" for where, message in self.problems]
        for a in self.rejected:
            lines.append(f"{a.entry.id}: does not conform; not stored")
            lines.extend("  " + r.as_text() for r in a.report.results)
        rate = self.stored / self.seconds if self.seconds else 0.0
        summary = (
            f"stored {self.stored} entr{'y' if self.stored == 1 else 'ies'} in {self.batches} "
            f"batch{'' if self.batches == 1 else 'es'} ({self.seconds:.1f} s, {rate:,.0f} entries/s)"
        )
        left_out = len(self.problems) + len(self.rejected)
        lines.append(summary + (f"; {left_out} left out (above)" if left_out else "; all entries conform"))
        return "\n".join(lines)


def load_in_batches(
    settings: Settings, paths: Sequence[Path], batch_size: int, *, bulk_loader: bool = False
) -> BatchLoadOutcome:
    """Validate, classify and store the entries of files in batches of `batch_size` (a bulk
    import, KnowledgeGraph.write_batches): a batch is assessed while the one before it is
    written; an entry that cannot be read or does not conform is reported and left out, the
    others are stored (replacing entries of the same id). A store failure stops the load and
    raises: the batches before it are stored. With `bulk_loader`, new entries go through the
    embedded store's bulk loader (KnowledgeGraph.write_batches; GraphWrite.bulk says what a
    failure then leaves). JSON arrays are read as a stream, one batch at a time."""
    if batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, not {batch_size}")
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    outcome = BatchLoadOutcome()

    def entries() -> Iterator[Entry]:
        for path in paths:
            if path.suffix.lower() != ".json":
                found = read_entry_file(path)
                outcome.problems.extend((f"{path}: {where}", message) for where, message in found.problems)
                yield from found.entries
                continue
            for index, item in enumerate(json_items(path)):
                try:
                    yield entry_from_json(item)
                except EntryError as exc:
                    outcome.problems.extend((f"{path}: [{index}].{where}", message) for where, message in exc.problems)

    def batches() -> Iterator[list[Entry]]:
        stream = entries()
        while batch := list(itertools.islice(stream, batch_size)):
            yield batch

    with opened(settings) as kg:
        started = time.perf_counter()
        for written in kg.write_batches(batches(), mode=WriteMode.UPSERT, bulk_loader=bulk_loader):
            outcome.batches += 1
            outcome.stored += len(written.written)
            outcome.rejected.extend(written.rejected)
        outcome.seconds = time.perf_counter() - started
    return outcome


# -- queries ----------------------------------------------------------------------


@dataclass
class QueryOutput:
    """A query's answer: columns and rows (SELECT), a boolean (ASK) or a graph."""

    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # rdflib terms, or plain values
    boolean: bool | None = None
    graph: Graph | None = None


def execute(
    store: Store,
    text: str,
    bindings: Mapping[str, Identifier] | None = None,
    *,
    read: sparqltext.SparqlText | None = None,
    plain: bool = False,
) -> QueryOutput:
    """Run any query through the engine, keeping the SELECT column order. `read`: the query
    already read (`text` is not read again). With `plain`, a SELECT's values are what JSON
    holds of each term (plain_value) instead of rdflib terms."""
    read = read if read is not None else sparqltext.read(text)
    if read.form.makes_graph:
        return QueryOutput(graph=store.construct(text, bindings=bindings))
    return run_select(store, read.with_values(bindings), plain=plain)


def run_select(store: Store, query: str, *, plain: bool = False) -> QueryOutput:
    """A SELECT or ASK whose text is final (its bindings in it), as `execute` answers it."""
    raw = store.execute(query, select_format="application/sparql-results+json", graph_format="text/turtle")
    document = json.loads(raw.body)
    if "boolean" in document:
        return QueryOutput(boolean=bool(document["boolean"]))
    columns = list(document["head"]["vars"])
    convert = plain_value if plain else term_from_json
    rows = [{name: convert(value) for name, value in solution.items()} for solution in document["results"]["bindings"]]
    return QueryOutput(columns, rows)


def run_query(settings: Settings, query: str, params: Mapping[str, str]) -> QueryOutput:
    """Run a named query (with typed parameters), a query from @file, or a SPARQL string."""
    with opened(settings) as kg:
        if query.startswith("@"):
            text = Path(query[1:]).read_text(encoding="utf-8")
            if params:
                raise InputError("--param applies to named queries only")
            return execute(kg.store, text)
        if re.fullmatch(r"[a-z0-9-]+", query):
            named = kg.queries.get(query)
            return execute(kg.store, named.text, named.bindings(params))
        if params:
            raise InputError("--param applies to named queries only")
        return execute(kg.store, query)


# -- reasoning and checks ------------------------------------------------------


@dataclass
class Report:
    ok: bool
    text: str
    details: dict[str, Any] = field(default_factory=dict)


def reindex(settings: Settings) -> str:
    """Rebuild the read index (lmkg.readindex) from the store; say what was indexed, and where."""
    from lmkg.readindex import index_path

    started = time.perf_counter()
    with opened(settings) as kg:
        count = kg.reindex()
    seconds = time.perf_counter() - started
    return f"Indexed {count} models in {index_path(settings)} ({seconds:.1f} s)."


def reason(settings: Settings) -> Report:
    """Classify the store with HermiT, rebuild the inferred graph, compare with the fast path."""
    with opened(settings) as kg:
        result = kg.reason()
        if not result.consistent:
            return Report(False, result.message)
        lines = ["HermiT: the knowledge graph is consistent."]
        if result.unsatisfiable:
            lines.append("Unsatisfiable classes: " + ", ".join(str(c) for c in result.unsatisfiable))
        else:
            lines.append("No class is unsatisfiable.")
        disagreements = fast_path_disagreements(kg, result.types)
        entries = sum(1 for s in result.types if "/model/" in s)
        lines.append(f"Classified {entries} model entries; inferred graph rebuilt.")
        if disagreements:
            lines.append("The fast path disagrees with HermiT on: " + ", ".join(disagreements))
        else:
            lines.append("The fast path agrees with HermiT on every entry.")
        ok = not result.unsatisfiable and not disagreements
        return Report(ok, "\n".join(lines), {"unsatisfiable": result.unsatisfiable})


def fast_path_disagreements(
    kg: KnowledgeGraph, hermit_types: Mapping[URIRef, frozenset[URIRef]]
) -> list[str]:
    """Model entries on which the fast path and HermiT conclude different classes."""
    from lmkg.vocab import GRAPH_MODEL

    differing = []
    for name in kg.store.graph_names():
        if not str(name).startswith(str(GRAPH_MODEL)):
            continue
        graph = kg.store.graph(name)
        model_id = str(name)[len(str(GRAPH_MODEL)) :]
        entry = Entry(model_id, graph)
        fast = kg.classifier.classify(graph, entry.iri).types
        if fast != hermit_types.get(entry.iri, frozenset()):
            differing.append(model_id)
    return sorted(differing)


def profile_check(settings: Settings, paths: Sequence[Path]) -> tuple[bool, str]:
    """Run the OWL API's OWL 2 DL profile check (as Protégé loads the files)."""
    tool = settings.profile_check
    if not tool.is_file():
        raise LmkgError(
            f"the OWL profile checker is not at {tool}; set LMKG_PROFILE_CHECK to its 'run' script"
        )
    completed = subprocess.run(
        [str(tool), *map(str, paths)], capture_output=True, text=True, timeout=300, check=False
    )
    output = (completed.stdout + completed.stderr).strip()
    return completed.returncode == 0, output


def check(settings: Settings, *, with_profile_check: bool = True) -> Report:
    """The OWL 2 DL profile of the ontology and its RDF/XML export, and every *-violation query."""
    lines: list[str] = []
    ok = True
    if with_profile_check:
        with tempfile.TemporaryDirectory(prefix="lmkg-check-") as tmp:
            from lmkg.ontology import ontology_graph

            rdfxml = Path(tmp) / "lmkg.owl"
            rdfxml.write_bytes(export_ontology(ontology_graph(settings.ontology_dir), "rdfxml"))
            passed, output = profile_check(settings, [settings.ontology_dir / "lmkg.ttl", rdfxml])
        ok &= passed
        lines.append("OWL 2 DL profile (OWL API): " + ("no violations" if passed else "VIOLATIONS"))
        lines.extend("  " + line for line in output.splitlines())
    with opened(settings) as kg:
        for named in kg.queries:
            if not named.is_violation_check:
                continue
            rows = kg.store.select(named.text)
            ok &= not rows
            lines.append(f"{named.name}: {'ok' if not rows else f'{len(rows)} defect(s)'}")
            for row in rows[:20]:
                lines.append("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
    lines.append("All checks passed." if ok else "Some checks found problems.")
    return Report(ok, "\n".join(lines))


# -- serving ---------------------------------------------------------------------


def serve(settings: Settings, *, host: str | None, port: int | None, workers: int = 1) -> None:
    """Run the HTTP service with uvicorn on the configured store.

    On the embedded store this process first starts the Oxigraph server on the store's
    directory and supervises it (`lmkg.store.server`); the service is then its client, as
    it is a remote server's. With several workers each process builds its own app from the
    LMKG_* environment (uvicorn starts them from an import string), so the settings of the
    server travel through it.
    """
    import os

    import uvicorn

    from lmkg.api import create_app
    from lmkg.api.app import SERVING_ENV
    from lmkg.store.checks import require_union_default_graph
    from lmkg.store.server import limit_own_arenas

    limit_own_arenas(os.environ)  # before uvicorn's threads (bench/RESULTS.md, memory)
    os.environ[SERVING_ENV] = "1"  # for the app and every worker (lmkg.api.app.create_app)
    settings = replace(settings, host=host or settings.host, port=port or settings.port)
    server = None
    if not settings.is_remote:
        from lmkg.store.server import OxigraphServer, served_settings

        server = OxigraphServer(settings.store, query_timeout=settings.query_timeout)
        settings = served_settings(settings, server)
    try:
        # Seeded and checked before the service starts: a store whose default graph is not the
        # union of its named graphs is refused with the setting that fixes it. Seeding here,
        # once, also keeps workers from seeding a new store together (the ontology twice).
        with opened(settings) as kg:
            require_union_default_graph(kg.store)
        if workers <= 1:
            uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
            return
        os.environ["LMKG_STORE"] = settings.store
        if server is not None:
            for name in ("LMKG_STORE_UPDATE", "LMKG_STORE_GRAPHS", "LMKG_STORE_USER", "LMKG_STORE_PASSWORD", "LMKG_STORE_TOKEN"):
                os.environ.pop(name, None)
            os.environ["LMKG_STORE_CHANGES"] = server.changes_path
            os.environ["LMKG_SERVED_STORE"] = str(server.location)
        os.environ["LMKG_WORKER_OF"] = str(os.getpid())
        uvicorn.run(
            "lmkg.api.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
        )
    finally:
        if server is not None:
            server.stop()


__all__ = [
    "BatchLoadOutcome",
    "EntriesOutcome",
    "QueryOutput",
    "Report",
    "ValidationReport",
    "check",
    "execute",
    "json_items",
    "load_files",
    "load_in_batches",
    "read_entry_file",
    "reason",
    "run_query",
    "serve",
    "validate_files",
]
