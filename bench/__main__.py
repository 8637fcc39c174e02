"""`python3 -m bench run --sizes 1000,10000,100000`: see bench/RESULTS.md for what it measures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.run import default_command, main


def cli(argv: list[str]) -> int:
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
    run.add_argument("--output", type=Path, default=Path(__file__).parent / "RESULTS.md")
    args = parser.parse_args(argv)
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
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(cli(sys.argv[1:]))
