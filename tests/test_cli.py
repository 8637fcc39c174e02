"""The `lmkg` command, run as a user runs it: a subprocess, exit codes, output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from lmkg.config import Settings
from lmkg.ontology import ontology_graph

DATA = Path(__file__).parent / "data"


def lmkg(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LMKG_STORE": str(store)}
    return subprocess.run(
        [sys.executable, "-m", "lmkg.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


def test_validate_invalid_entry_exits_1_naming_property_and_problem(store_dir: Path) -> None:
    result = lmkg(store_dir, "validate", str(DATA / "invalid-entries" / "parameter-count-negative.json"))
    assert result.returncode == 1, result.stderr
    assert "parameterCount" in result.stdout
    assert "must be one positive whole number" in result.stdout


def test_validate_valid_entries_exits_0(store_dir: Path) -> None:
    files = [str(p) for p in sorted((DATA / "valid-entries").iterdir())]
    result = lmkg(store_dir, "validate", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tinyllama-1.1b: conforms" in result.stdout
    assert "portable: yes (size-rule)" in result.stdout
    # An entry of undisclosed size: no evidence decides its traits.
    assert "portable: unknown (none)" in result.stdout


@pytest.mark.parametrize("fmt", ["json", "turtle"])
def test_validate_report_formats(store_dir: Path, fmt: str) -> None:
    result = lmkg(store_dir, "validate", "--format", fmt, str(DATA / "invalid-entries" / "no-sources.json"))
    assert result.returncode == 1
    if fmt == "json":
        report = json.loads(result.stdout)
        assert report["conforms"] is False
        assert report["entries"][0]["results"][0]["path"] == "http://purl.org/dc/terms/source"
    else:
        graph = Graph().parse(data=result.stdout, format="turtle")
        assert len(graph) > 5


def test_validate_missing_file_exits_2(store_dir: Path) -> None:
    result = lmkg(store_dir, "validate", "no-such-file.json")
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_query_named_prints_a_table(store_dir: Path) -> None:
    result = lmkg(store_dir, "query", "portable-and-cheap-to-fine-tune")
    assert result.returncode == 0, result.stderr
    assert "Phi-3-mini" in result.stdout
    assert "GPT-4" not in result.stdout
    assert "(10 rows)" in result.stdout


def test_query_formats_and_params(store_dir: Path) -> None:
    result = lmkg(store_dir, "query", "models-by-kind", "--param", "kind=llm", "--format", "json")
    assert result.returncode == 0, result.stderr
    labels = {row["label"] for row in json.loads(result.stdout)}
    assert labels == {"GPT-4", "Mistral 7B", "Llama 3", "Llama 3 8B", "Llama 3 70B", "Llama 2 7B", "Llama 2 13B"}
    csv_out = lmkg(store_dir, "query", "models-by-kind", "--format", "csv")
    assert csv_out.stdout.splitlines()[0] == "model,label,parameterCount,sizeClass"
    bad = lmkg(store_dir, "query", "models-by-kind", "--param", "kind=medium")
    assert bad.returncode == 2 and "must be one of llm, slm" in bad.stderr


def test_query_sparql_string_and_file(store_dir: Path, tmp_path: Path) -> None:
    ask = "ASK { <https://w3id.org/lmkg/model/phi-3-mini> a <https://w3id.org/lmkg/ontology#PortableModel> }"
    assert lmkg(store_dir, "query", ask).stdout.strip() == "true"
    rq = tmp_path / "count.rq"
    rq.write_text(
        "SELECT (COUNT(*) AS ?n) WHERE { ?m a <https://w3id.org/lmkg/ontology#SmallLanguageModel> }"
    )
    assert "8" in lmkg(store_dir, "query", f"@{rq}").stdout
    bad = lmkg(store_dir, "query", "SELECT ?x WHERE { ?x ")
    assert bad.returncode == 2 and "line 1" in bad.stderr


def test_load_stores_valid_entries_and_refuses_invalid_ones_whole(store_dir: Path) -> None:
    loaded = lmkg(store_dir, "load", str(DATA / "valid-entries" / "minimal.json"))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    ask = "ASK { <https://w3id.org/lmkg/model/tinyllama-1.1b> a <https://w3id.org/lmkg/ontology#CheapToFineTuneModel> }"
    assert lmkg(store_dir, "query", ask).stdout.strip() == "true"
    refused = lmkg(
        store_dir,
        "load",
        str(DATA / "valid-entries" / "undisclosed-size.json"),
        str(DATA / "invalid-entries" / "no-developer.json"),
    )
    assert refused.returncode == 1
    assert "nothing was stored" in refused.stdout
    ask_claude = "ASK { GRAPH ?g { <https://w3id.org/lmkg/model/claude-3-opus> ?p ?o } }"
    assert lmkg(store_dir, "query", ask_claude).stdout.strip() == "false"


def test_load_in_batches_stores_what_conforms_and_reports_the_rest(store_dir: Path, tmp_path: Path) -> None:
    """`lmkg load --batch-size N`: a bulk import. A JSON array read as a stream, batches of N
    stored as they are checked (with --bulk-loader, new entries through the engine's bulk
    loader; then in transactions, replacing them); an item
    that cannot be read and an entry that does not conform are named and left out; the rest
    is stored, and the service's read index lists it. A run again replaces entries whole."""
    from bench.data import entries as synthetic_entries

    documents: list[object] = list(synthetic_entries(120))
    documents.insert(7, json.loads((DATA / "invalid-entries" / "no-developer.json").read_text()))
    documents.insert(50, {"id": "not-an-entry"})  # no label, kind or sources: refused when read
    path = tmp_path / "bulk.json"
    path.write_text(json.dumps(documents, indent=1))
    result = lmkg(store_dir, "load", "--batch-size", "25", "--bulk-loader", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "stored 120 entries in 5 batches" in result.stdout
    assert f"{path}: [50]." in result.stdout  # where the unreadable item is
    assert "does not conform; not stored" in result.stdout
    assert "2 left out" in result.stdout
    count = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?m a ?kind } FILTER(STRSTARTS(STR(?g), 'https://w3id.org/lmkg/graph/model/')) }"
    before = int(lmkg(store_dir, "query", count, "--format", "csv").stdout.split()[-1])
    again = lmkg(store_dir, "load", "--batch-size", "40", str(path))  # replaces: a transaction a batch
    assert "stored 120 entries in 4 batches" in again.stdout, again.stdout + again.stderr
    assert int(lmkg(store_dir, "query", count, "--format", "csv").stdout.split()[-1]) == before
    settings = Settings.from_env({**os.environ, "LMKG_STORE": str(store_dir)})
    from lmkg.commands import opened
    from lmkg.readindex import IndexFilter

    with opened(settings) as kg:  # the first read catches up with the import
        found = kg.read_index.find(IndexFilter(), limit=500)
    listed = {m.id for m in found.models}
    assert {str(d["id"]) for d in synthetic_entries(120)} <= listed
    assert "not-an-entry" not in listed
    alone = lmkg(store_dir, "load", "--bulk-loader", str(path))
    assert alone.returncode == 2 and "--batch-size" in alone.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": "a"}, {"id": ')
    refused = lmkg(store_dir, "load", "--batch-size", "10", str(broken))
    assert refused.returncode == 2 and f"{broken}: not valid JSON at character" in refused.stderr


@pytest.mark.parametrize(
    ("fmt", "parser"), [("rdfxml", "xml"), ("jsonld", "json-ld"), ("ntriples", "nt"), ("turtle", "turtle")]
)
def test_export(store_dir: Path, tmp_path: Path, fmt: str, parser: str) -> None:
    out = tmp_path / f"lmkg.{fmt}"
    result = lmkg(store_dir, "export", "--format", fmt, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert isomorphic(Graph().parse(out, format=parser), ontology_graph(Settings().ontology_dir))


@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")
def test_reason_with_hermit(store_dir: Path) -> None:
    assert lmkg(store_dir, "load", str(DATA / "valid-entries" / "two-models.ttl")).returncode == 0
    result = lmkg(store_dir, "reason")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "consistent" in result.stdout
    assert "No class is unsatisfiable" in result.stdout
    assert "agrees with HermiT on every entry" in result.stdout
    ask = "ASK { GRAPH <https://w3id.org/lmkg/graph/inferred> { <https://w3id.org/lmkg/model/gemma-2b> a <https://w3id.org/lmkg/ontology#PortableModel> } }"
    assert lmkg(store_dir, "query", ask).stdout.strip() == "true"


@pytest.mark.skipif(
    shutil.which("java") is None or not Settings().profile_check.is_file(),
    reason="the profile check needs Java and ../shared/tools",
)
def test_check_passes_on_the_project(store_dir: Path) -> None:
    result = lmkg(store_dir, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OWL 2 DL profile (OWL API): no violations" in result.stdout
    assert "entry-kind-violation: ok" in result.stdout


def test_explain_prints_the_chain_from_facts_to_conclusion(store_dir: Path) -> None:
    result = lmkg(store_dir, "explain", "orca-2-7b")
    assert result.returncode == 0, result.stderr
    assert "portable: yes (size-rule): 7 billion parameters" in result.stdout
    assert "it is a fits a laptop at 4 bits" not in result.stdout
    assert "fits a laptop at 4 bits" in result.stdout  # the size rule's class, with its chain
    assert "its parameter count is 7B" in result.stdout
    # The source's generalisation is quoted as its view, never as the reason.
    assert "(the source's view, not a reason)" in result.stdout
    assert "SubClassOf has portability" not in result.stdout
    missing = lmkg(store_dir, "explain", "no-such-model")
    assert missing.returncode == 2 and "no model with id" in missing.stderr


def test_import_epoch_with_report(store_dir: Path, tmp_path: Path) -> None:
    report_csv = tmp_path / "report.csv"
    result = lmkg(
        store_dir, "import", "epoch", str(DATA / "epoch" / "malformed.csv"), "--report-csv", str(report_csv)
    )
    assert result.returncode == 0, result.stderr
    assert "read 7 rows: 3 kept, 0 merged into an entity of another source, 4 rejected" in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    rows = report_csv.read_text().splitlines()
    assert rows[0] == "row,name,outcome,entity,reason" and len(rows) == 8
    ask = "ASK { <https://w3id.org/lmkg/model/twin> a <https://w3id.org/lmkg/ontology#PortableModel> }"
    assert lmkg(store_dir, "query", ask).stdout.strip() == "true"


def test_load_resolves_organisations_named_by_iri(store_dir: Path, tmp_path: Path) -> None:
    """`lmkg load` of entries naming a stored organisation by IRI (JSON, Turtle, JSON-LD)."""
    files = [str(p) for p in sorted((DATA / "references").iterdir())]
    result = lmkg(store_dir, "load", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    unknown = tmp_path / "unknown.ttl"
    text = (DATA / "references" / "developer-by-iri.ttl").read_text(encoding="utf-8")
    unknown.write_text(text.replace("org:microsoft", "org:no-such-lab"), encoding="utf-8")
    refused = lmkg(store_dir, "validate", str(unknown))
    assert refused.returncode == 1
    assert "<https://w3id.org/lmkg/org/no-such-lab> is not an organisation" in refused.stdout
