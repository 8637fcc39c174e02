"""`python3 -m bench run --sizes 1000,10000,100000`: see bench/RESULTS.md for what it measures."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from bench.run import RunOptions, default_command, main, report


def _prebuilt(text: str) -> dict[str, Path]:
    """SIZE=PATH,...: a store (with its read index beside it) to copy instead of importing."""
    found: dict[str, Path] = {}
    for item in text.split(","):
        if item.strip():
            size, _, path = item.partition("=")
            if not path or not Path(path).is_dir():
                raise argparse.ArgumentTypeError(f"--store wants SIZE=STORE_DIRECTORY, not {item!r}")
            found[size.strip()] = Path(path)
    return found


def cli(argv: list[str]) -> int:
    # SIGTERM ends a run as an error would: the services it started are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="build the data sets, start the three services, measure, report")
    run.add_argument(
        "--sizes",
        default="1000,10000,100000",
        help="comma-separated entry counts, and 'epoch' for Epoch AI's data (default: %(default)s)",
    )
    run.add_argument(
        "--rounds", type=int, default=3, help="bursts per workload and target (default: %(default)s)"
    )
    run.add_argument("--duration", type=float, default=2.0, help="seconds per burst (default: %(default)s)")
    run.add_argument("--writes", type=int, default=40, help="POST /models and /validate requests per size")
    run.add_argument("--processes", type=int, default=2, help="client processes (default: %(default)s)")
    run.add_argument(
        "--threads", type=int, default=2, help="client threads per process (default: %(default)s)"
    )
    run.add_argument(
        "--request-timeout",
        type=float,
        default=30,
        help="seconds a target may take for one request before it counts as timed out "
        "(also lmkg's LMKG_QUERY_TIMEOUT and the Oxigraph server's --timeout-s; default: %(default)s)",
    )
    run.add_argument(
        "--rdflib-max-entries",
        type=int,
        default=10_000,
        help="largest synthetic size that rdflib-endpoint is started for (default: %(default)s; "
        "its start-up does not finish at 100k)",
    )
    run.add_argument(
        "--skip-sparql",
        action="store_true",
        help="leave out the SPARQL endpoint workloads (headline, look-up, list, aggregate through /sparql)",
    )
    run.add_argument(
        "--after-writes",
        type=int,
        default=8,
        help="reads right after a write, per REST workload (default: %(default)s)",
    )
    run.add_argument(
        "--oxigraph-tries",
        type=int,
        default=3,
        help="answers of the Oxigraph server per REST workload, one when the first is slow (default: %(default)s)",
    )
    run.add_argument(
        "--mixed-clients", type=int, default=32, help="readers of the mixed workload (default: %(default)s)"
    )
    run.add_argument(
        "--mixed-seconds",
        type=float,
        default=20.0,
        help="length of the mixed workload (default: %(default)s)",
    )
    run.add_argument(
        "--mixed-writes",
        type=float,
        default=10.0,
        help="entries a second the mixed workload's writer posts (default: %(default)s)",
    )
    run.add_argument(
        "--lmkg-workers", type=int, default=1, help="`lmkg serve --workers` (default: %(default)s)"
    )
    run.add_argument(
        "--lmkg-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for `lmkg serve` and the Oxigraph server it starts (repeatable; "
        "e.g. MALLOC_ARENA_MAX=2)",
    )
    run.add_argument(
        "--store",
        type=_prebuilt,
        default={},
        metavar="SIZE=DIR,...",
        help="copy this lmkg store (and DIR.readindex.sqlite beside it) for SIZE instead of importing "
        "(the copy goes to a temporary directory; the original is never opened)",
    )
    run.add_argument(
        "--workdir", type=Path, default=None, help="where the temporary stores go (default: $TMPDIR)"
    )
    run.add_argument("--output", type=Path, default=Path(__file__).parent / "RESULTS.md")
    again = commands.add_parser("report", help="write RESULTS.md again from a run's results.json")
    again.add_argument(
        "results",
        type=Path,
        nargs="+",
        help="the results.json of one run or more (their sizes in this order)",
    )
    again.add_argument("--output", type=Path, default=Path(__file__).parent / "RESULTS.md")
    args = parser.parse_args(argv)
    if args.command == "report":
        report(args.results, args.output)
        return 0
    main(
        [s.strip() for s in args.sizes.split(",") if s.strip()],
        rounds=args.rounds,
        duration=args.duration,
        writes=args.writes,
        processes=args.processes,
        threads=args.threads,
        request_timeout=args.request_timeout,
        rdflib_max_entries=args.rdflib_max_entries,
        output=args.output,
        command=default_command(argv),
        options=RunOptions(
            sparql_workloads=not args.skip_sparql,
            after_writes=args.after_writes,
            oxigraph_tries=args.oxigraph_tries,
            mixed_clients=args.mixed_clients,
            mixed_seconds=args.mixed_seconds,
            mixed_writes=args.mixed_writes,
            lmkg_workers=args.lmkg_workers,
            lmkg_env=dict(item.split("=", 1) for item in args.lmkg_env),
            prebuilt=args.store,
            workdir=args.workdir,
        ),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(cli(sys.argv[1:]))
