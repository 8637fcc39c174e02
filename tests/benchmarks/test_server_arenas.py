"""The Oxigraph server that `lmkg serve` supervises runs with few malloc arenas (the memory
target of issue 14: bench/RESULTS.md measured 238 MB against 131 MB at 100k), but not so few
that its concurrent queries contend (SERVER_ARENAS), unless the environment says otherwise.
Read from the running server's own environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmkg.store.server import OWN_ARENAS, SERVER_ARENAS, OxigraphServer, limit_own_arenas


def _arenas_of(server: OxigraphServer) -> str | None:
    assert server.pid is not None
    environ = Path(f"/proc/{server.pid}/environ").read_bytes().split(b"\0")
    found = [e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"MALLOC_ARENA_MAX=")]
    return found[0] if found else None


@pytest.mark.parametrize(("given", "expected"), [(None, SERVER_ARENAS), ("3", "3")])
def test_oxigraph_server_runs_with_few_arenas_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str | None, expected: str
) -> None:
    if given is None:
        monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    else:
        monkeypatch.setenv("MALLOC_ARENA_MAX", given)
    server = OxigraphServer(tmp_path / "store", query_timeout=5)
    try:
        assert _arenas_of(server) == expected
    finally:
        server.stop()


def test_lmkg_serve_limits_its_own_arenas_and_its_workers_unless_told() -> None:
    environ: dict[str, str] = {}
    assert limit_own_arenas(environ) is True  # glibc's mallopt accepted it
    assert environ["MALLOC_ARENA_MAX"] == OWN_ARENAS  # for the workers it starts
    told = {"MALLOC_ARENA_MAX": "4"}
    assert limit_own_arenas(told) is False and told == {"MALLOC_ARENA_MAX": "4"}


def test_the_server_does_not_take_lmkg_serves_own_arenas_as_the_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lmkg serve` limits its own arenas before it starts the server: the server still gets
    SERVER_ARENAS (two arenas and a query time limit made its concurrent queries contend)."""
    environ: dict[str, str] = {}
    limit_own_arenas(environ)  # what `lmkg serve` does to os.environ
    assert environ["MALLOC_ARENA_MAX"] == OWN_ARENAS != SERVER_ARENAS
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    server = OxigraphServer(tmp_path / "store", query_timeout=5)
    try:
        assert _arenas_of(server) == SERVER_ARENAS
    finally:
        server.stop()
