"""The `lmkg` command: thin shells over the functions of the package.

Exit codes: 0 fine, 1 the data does not conform (or checks found problems),
2 usage or runtime error.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rdflib import Literal

from lmkg import __version__
from lmkg.collector import collector_paused
from lmkg.config import Settings
from lmkg.errors import InputError, LmkgError

EXIT_OK, EXIT_NONCONFORMING, EXIT_ERROR = 0, 1, 2


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _error(text: str) -> None:
    sys.stderr.write(f"lmkg: {text}\n")


# -- commands ------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.commands import serve

    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.commands import validate_files

    outcome = validate_files(settings, [Path(f) for f in args.files])
    _print(outcome.render(args.format))
    return EXIT_OK if outcome.conforms else EXIT_NONCONFORMING


def cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.commands import load_files, load_in_batches

    if args.bulk_loader and args.batch_size is None:
        raise InputError("--bulk-loader loads batches: give --batch-size N with it")
    with collector_paused():  # a batch load: this process does nothing else
        if args.batch_size is not None:
            batched = load_in_batches(
                settings, [Path(f) for f in args.files], args.batch_size, bulk_loader=args.bulk_loader
            )
            _print(batched.render())
            return EXIT_OK if batched.conforms else EXIT_NONCONFORMING
        outcome = load_files(settings, [Path(f) for f in args.files])
    _print(outcome.render("text"))
    return EXIT_OK if outcome.conforms else EXIT_NONCONFORMING


def cmd_query(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.commands import run_query

    params = dict(_split_param(p) for p in args.param)
    result = run_query(settings, args.query, params)
    _print(format_result(result, args.format))
    return EXIT_OK


def cmd_reason(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.commands import reason

    report = reason(settings)
    _print(report.text)
    return EXIT_OK if report.ok else EXIT_NONCONFORMING


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.commands import reindex

    _print(reindex(settings))
    return EXIT_OK


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.commands import opened
    from lmkg.importers import import_path

    with collector_paused(), opened(settings) as kg:  # a batch import: see lmkg.collector
        report = import_path(kg, args.source, Path(args.file), batch_size=args.batch_size)
    _print(report.as_text())
    if args.report_csv:
        report.write_csv(Path(args.report_csv))
        _print(f"every row and its outcome written to {args.report_csv}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.commands import opened
    from lmkg.explain import explain

    with opened(settings) as kg:
        explanation = explain(kg, args.id)
    _print(json.dumps(explanation.as_json(), indent=2) if args.format == "json" else explanation.as_text())
    return EXIT_OK


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.ontology import export_ontology, ontology_graph

    data = export_ontology(ontology_graph(settings.ontology_dir), args.format)
    if args.output in (None, "-"):
        sys.stdout.buffer.write(data)
    else:
        Path(args.output).write_bytes(data)
        _print(f"wrote {len(data):,} bytes of {args.format} to {args.output}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from lmkg.commands import check

    report = check(settings, with_profile_check=not args.skip_profile_check)
    _print(report.text)
    return EXIT_OK if report.ok else EXIT_NONCONFORMING


# -- output --------------------------------------------------------------------


def _json_value(value: object) -> Any:
    if isinstance(value, Literal):
        python = value.toPython()
        return python if isinstance(python, bool | int | float | str) else str(value)
    return None if value is None else str(value)


def format_result(result: Any, fmt: str) -> str:
    """Render a QueryOutput (columns and rows, a boolean, or a graph) as table, csv or json."""
    if result.boolean is not None:
        return json.dumps({"boolean": result.boolean}) if fmt == "json" else str(result.boolean).lower()
    if result.graph is not None:
        return str(result.graph.serialize(format="json-ld" if fmt == "json" else "turtle"))
    columns: list[str] = result.columns
    rows: list[dict[str, Any]] = result.rows
    if fmt == "json":
        return json.dumps(
            [{c: _json_value(row.get(c)) for c in columns if c in row} for row in rows], indent=2
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else str(row[c]) for c in columns])
        return buffer.getvalue().rstrip("\n")
    cells = [[("" if row.get(c) is None else str(row[c])) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    widths = [min(w, 80) for w in widths]

    def line(values: Sequence[str]) -> str:
        return " | ".join(v[:80].ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(columns), "-+-".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def _split_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--param takes NAME=VALUE, not {text!r}")
    return name.strip(), value


# -- parser --------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lmkg",
        description="A knowledge graph of language models. Settings come from LMKG_* variables.",
        epilog="Exit codes: 0 fine, 1 the data does not conform or checks found problems, 2 error.",
    )
    parser.add_argument("--version", action="version", version=f"lmkg {__version__}")
    parser.add_argument(
        "--store", help="the store: a directory, or a SPARQL endpoint URL (default: LMKG_STORE)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP service (uvicorn)")
    serve.add_argument("--host", help="interface to bind (default LMKG_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default LMKG_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(handler=cmd_serve)

    validate = sub.add_parser(
        "validate", help="validate entries (JSON or Turtle files) with the SHACL shapes"
    )
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--format", choices=["text", "json", "turtle"], default="text")
    validate.set_defaults(handler=cmd_validate)

    load = sub.add_parser(
        "load", help="validate, classify and store entries; all or nothing, or in batches (--batch-size)"
    )
    load.add_argument("files", nargs="+", metavar="FILE")
    load.add_argument(
        "--batch-size",
        type=int,
        metavar="N",
        help="a bulk import: store in batches of N as they are checked (JSON arrays read as a stream); "
        "entries that do not conform are reported and left out, the rest stored; a failure stops "
        "the load with the batches before it stored",
    )
    load.add_argument(
        "--bulk-loader",
        action="store_true",
        help="with --batch-size: new entries through the embedded store's bulk loader (about twice "
        "as fast; not atomic: a failure inside a batch can leave part of that batch, and says so)",
    )
    load.set_defaults(handler=cmd_load)

    query = sub.add_parser("query", help="run SPARQL: a query string, @file.rq, or a named query")
    query.add_argument("query", metavar="QUERY_OR_NAME")
    query.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of a named query (repeatable)",
    )
    query.add_argument("--format", choices=["table", "csv", "json"], default="table")
    query.set_defaults(handler=cmd_query)

    reason = sub.add_parser("reason", help="classify the whole store with HermiT; rebuild the inferred graph")
    reason.set_defaults(handler=cmd_reason)

    reindex = sub.add_parser("reindex", help="rebuild the read index behind GET /models from the store")
    reindex.set_defaults(handler=cmd_reindex)

    importer = sub.add_parser(
        "import",
        help="import a real data set (SOURCE: epoch FILE, ecosystem-graphs DIR) through the same gate as every write",
    )
    importer.add_argument(
        "source",
        choices=["epoch", "ecosystem-graphs"],
        metavar="SOURCE",
        help="epoch: Epoch AI's models database (CSV file); ecosystem-graphs: Stanford CRFM's Ecosystem "
        "Graphs (the folder holding assets/*.yaml and SOURCE.md)",
    )
    importer.add_argument("file", metavar="PATH", help="the CSV file (epoch) or the folder (ecosystem-graphs)")
    importer.add_argument(
        "--report-csv",
        metavar="PATH",
        help="also write every row with its outcome (kept, merged, rejected with the reason, ambiguous) as CSV",
    )
    importer.add_argument("--batch-size", type=int, default=500, help="entries per transaction (default 500)")
    importer.set_defaults(handler=cmd_import)

    explain = sub.add_parser("explain", help="why a model is in each class it was inferred into")
    explain.add_argument("id", metavar="ID")
    explain.add_argument("--format", choices=["text", "json"], default="text")
    explain.set_defaults(handler=cmd_explain)

    export = sub.add_parser("export", help="write the ontology in another serialisation")
    export.add_argument(
        "--format", required=True, choices=["turtle", "rdfxml", "owlxml", "jsonld", "ntriples"]
    )
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(handler=cmd_export)

    check = sub.add_parser("check", help="OWL 2 DL profile, data-quality queries, labels and definitions")
    check.add_argument(
        "--skip-profile-check", action="store_true", help="skip the OWL API profile check (needs Java)"
    )
    check.set_defaults(handler=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.store:
            settings = replace(settings, store=args.store)
        code: int = args.handler(args, settings)
        return code
    except LmkgError as exc:
        _error(str(exc))
        return EXIT_ERROR
    except (OSError, ValueError, argparse.ArgumentTypeError) as exc:
        _error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
