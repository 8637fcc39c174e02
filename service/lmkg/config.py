"""Settings read once from LMKG_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


def package_data(name: str) -> Path:
    """A directory of data shipped inside the package: `ontology`, `shapes` or `queries`.

    They are read from lmkg/assets/ through importlib.resources, so a wheel, `pip install .`
    and an editable install find them alike (in a checkout, lmkg/assets/ holds symlinks to the
    top-level ontology/, shapes/ and queries/). A real directory is required: the Java tools
    (the OWL API, HermiT) are given file names, so lmkg does not run from a zip.
    """
    found = resources.files("lmkg") / "assets" / name
    if not isinstance(found, Path) or not found.is_dir():
        raise RuntimeError(
            f"lmkg's package data '{name}' is missing (looked for {found}): reinstall lmkg from "
            "a wheel or with 'pip install .'; it cannot run from a zip file"
        )
    return found


def shared_dir() -> Path:
    """The team's shared folder (tools, data, the source document), for checks and tests run from
    a checkout: LMKG_SHARED_DIR, else `shared` beside the checkout, else /work/shared."""
    configured = os.environ.get("LMKG_SHARED_DIR")
    if configured:
        return Path(configured)
    beside = Path(__file__).resolve().parents[3] / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


def _default_store() -> str:
    return str(Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "lmkg" / "store")


@dataclass(frozen=True)
class Settings:
    """Everything configurable about lmkg; build with `Settings.from_env()` or directly in tests."""

    store: str = field(default_factory=_default_store)
    store_update: str | None = None
    store_graphs: str | None = None
    store_user: str | None = None
    store_password: str | None = None
    store_token: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    read_token: str | None = None
    query_timeout: float = 30.0
    max_rows: int = 100_000
    max_body_bytes: int = 16 * 1024 * 1024
    max_concurrent_queries: int = 16
    cache_entries: int = 10_000
    service_allow: tuple[str, ...] = ()
    read_index: str | None = None  # the read index's SQLite file (lmkg.readindex.index_path)
    store_changes: str | None = None
    served_store: str | None = None
    cors_origins: tuple[str, ...] = ()
    ontology_dir: Path = field(default_factory=lambda: package_data("ontology"))
    shapes_dir: Path = field(default_factory=lambda: package_data("shapes"))
    queries_dir: Path = field(default_factory=lambda: package_data("queries"))
    seed_examples: bool = True
    profile_check: Path = field(default_factory=lambda: shared_dir() / "tools" / "owl-profile-check" / "run")

    # store_changes and served_store are set by `lmkg serve` for its workers (LMKG_STORE_CHANGES,
    # LMKG_SERVED_STORE): the change-count file of the Oxigraph server it runs on the embedded
    # store, and that store's directory. Not settings for users.

    @property
    def is_remote(self) -> bool:
        return self.store.startswith(("http://", "https://"))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        defaults = cls()
        try:
            port = int(env.get("LMKG_PORT", defaults.port))
            timeout = float(env.get("LMKG_QUERY_TIMEOUT", defaults.query_timeout))
            max_rows = int(env.get("LMKG_MAX_ROWS", defaults.max_rows))
            max_body = int(env.get("LMKG_MAX_BODY_BYTES", defaults.max_body_bytes))
            max_queries = int(env.get("LMKG_MAX_CONCURRENT_QUERIES", defaults.max_concurrent_queries))
            cache_entries = int(env.get("LMKG_CACHE_ENTRIES", defaults.cache_entries))
        except ValueError as exc:
            raise ValueError(
                "LMKG_PORT, LMKG_QUERY_TIMEOUT, LMKG_MAX_ROWS, LMKG_MAX_BODY_BYTES, "
                f"LMKG_MAX_CONCURRENT_QUERIES and LMKG_CACHE_ENTRIES must be numbers: {exc}"
            ) from exc
        if cache_entries < 0:
            raise ValueError("LMKG_CACHE_ENTRIES must be 0 (no cache) or more")
        if timeout <= 0 or max_rows < 1 or max_body < 1 or max_queries < 1:
            raise ValueError(
                "LMKG_QUERY_TIMEOUT, LMKG_MAX_ROWS, LMKG_MAX_BODY_BYTES and "
                "LMKG_MAX_CONCURRENT_QUERIES must be positive"
            )
        allow = tuple(e.strip() for e in env.get("LMKG_SERVICE_ALLOW", "").split(",") if e.strip())
        cors = tuple(o.strip() for o in env.get("LMKG_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            store=env.get("LMKG_STORE", defaults.store),
            store_update=env.get("LMKG_STORE_UPDATE") or None,
            store_graphs=env.get("LMKG_STORE_GRAPHS") or None,
            store_user=env.get("LMKG_STORE_USER") or None,
            store_password=env.get("LMKG_STORE_PASSWORD") or None,
            store_token=env.get("LMKG_STORE_TOKEN") or None,
            host=env.get("LMKG_HOST", defaults.host),
            port=port,
            token=env.get("LMKG_TOKEN") or None,
            read_token=env.get("LMKG_READ_TOKEN") or None,
            query_timeout=timeout,
            max_rows=max_rows,
            max_body_bytes=max_body,
            max_concurrent_queries=max_queries,
            cache_entries=cache_entries,
            service_allow=allow,
            read_index=env.get("LMKG_READ_INDEX") or None,
            store_changes=env.get("LMKG_STORE_CHANGES") or None,
            served_store=env.get("LMKG_SERVED_STORE") or None,
            cors_origins=cors,
            profile_check=Path(env["LMKG_PROFILE_CHECK"])
            if env.get("LMKG_PROFILE_CHECK")
            else defaults.profile_check,
        )
