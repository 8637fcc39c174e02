"""The package as a user installs it: a wheel built from the project, installed into a fresh
virtual environment outside the checkout, serves the ontology, the shapes' checks, the examples
and the named queries it carries as package data.

What broke: config.py found ontology/, shapes/ and queries/ beside the checkout
(`parents[2]`), and the wheel held no `.ttl`, no `.rq` and no Java helper, so a wheel or
`pip install .` gave an `lmkg` that could not start.

The venv sees the system's site-packages (`--system-site-packages`) so that lmkg's
dependencies are not downloaded again; lmkg itself is installed into the venv from the wheel
and the test checks that the venv's copy is the one that runs. The wheel is built from a copy
of the project's sources so that the build leaves nothing in the checkout.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph
from rdflib.namespace import OWL, RDF

from lmkg.vocab import LMKG
from tests.conftest import free_port

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[1]
# What a build reads: the metadata, the build hook, the package and the data it ships.
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "README.md",
    "MANIFEST.in",
    "service",
    "ontology",
    "shapes",
    "queries",
    "web",
)
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", "node_modules", "build", "dist")


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, **kwargs)  # type: ignore[call-overload]
    assert completed.returncode == 0, f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed  # type: ignore[no-any-return]


def copy_sources(target: Path) -> Path:
    """The project's sources as a clone holds them (the assets/ links copied as links)."""
    target.mkdir()
    for name in SOURCES:
        origin = CHECKOUT / name
        if origin.is_dir():
            shutil.copytree(origin, target / name, symlinks=True, ignore=IGNORED)
        else:
            shutil.copy2(origin, target / name)
    return target


def fresh_venv(path: Path) -> Path:
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(path)
    return path / "bin" / "python"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv outside the checkout with lmkg installed from a freshly built wheel; its bin/."""
    root = tmp_path_factory.mktemp("package")
    source = copy_sources(root / "source")
    wheels = root / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), str(source)])
    (wheel,) = wheels.glob("lmkg-*.whl")
    python = fresh_venv(root / "venv")
    run([str(python), "-m", "pip", "install", "--no-deps", "--force-reinstall", str(wheel)])
    return python.parent


def test_an_editable_install_reads_the_top_level_sources(tmp_path: Path) -> None:
    """`pip install -e .`: the package data is the checkout's ontology/, shapes/ and queries/
    themselves, so an edit there is what the next `lmkg` command reads."""
    source = copy_sources(tmp_path / "source")
    python = fresh_venv(tmp_path / "venv")
    run([str(python), "-m", "pip", "install", "--no-deps", "-e", str(source)])
    probe = (
        "import json, lmkg\n"
        "from lmkg.config import Settings\n"
        "s = Settings()\n"
        "print(json.dumps([lmkg.__file__, str(s.ontology_dir.resolve()), str(s.shapes_dir.resolve()),\n"
        "  str(s.queries_dir.resolve()), len(list(s.queries_dir.glob('*.rq')))]))\n"
    )
    package, ontology, shapes, queries, count = json.loads(
        run([str(python), "-c", probe], cwd=tmp_path, env=clean_env()).stdout
    )
    root = source.resolve()
    assert Path(package).resolve() == root / "service" / "lmkg" / "__init__.py"
    assert [ontology, shapes, queries] == [
        str(root / "ontology"),
        str(root / "shapes"),
        str(root / "queries"),
    ]
    assert count == len(list((CHECKOUT / "queries").glob("*.rq")))


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: nothing pointing at the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMKG_") and k != "PYTHONPATH"}
    return {**env, **extra}


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import json, lmkg\n"
        "from lmkg.config import Settings\n"
        "from lmkg import owlapi\n"
        "s = Settings()\n"
        "print(json.dumps({'package': lmkg.__file__, 'ontology': str(s.ontology_dir),\n"
        "  'shapes': str(s.shapes_dir), 'queries': str(s.queries_dir), 'java': str(owlapi._SOURCE),\n"
        "  'files': sorted(p.name for d in (s.ontology_dir, s.shapes_dir, s.queries_dir) for p in d.iterdir()),\n"
        "  'links': [d.is_symlink() for d in (s.ontology_dir, s.shapes_dir, s.queries_dir)]}))\n"
    )
    found = json.loads(run([str(installed / "python"), "-c", probe], cwd=tmp_path, env=clean_env()).stdout)
    venv_dir = installed.parent.resolve()
    for key in ("package", "ontology", "shapes", "queries", "java"):
        assert Path(found[key]).resolve().is_relative_to(venv_dir), (key, found[key])
    assert found["links"] == [False, False, False]  # copied as files into the wheel
    expected = {
        p.name for d in ("ontology", "shapes", "queries") for p in (CHECKOUT / d).iterdir() if p.is_file()
    }
    assert set(found["files"]) == expected
    assert Path(found["java"]).name == "OwlConvert.java" and Path(found["java"]).is_file()


@contextlib.contextmanager
def serving(bin_dir: Path, store: Path, log: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(bin_dir / "lmkg"), "serve", "--port", str(port)],
            env=clean_env(LMKG_STORE=str(store)),
            cwd=store.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (
                f"lmkg serve exited with {process.returncode}:\n{log.read_text()[-4000:]}"
            )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"lmkg serve not ready:\n{log.read_text()[-4000:]}"
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_lmkg_serve_from_the_wheel_answers(installed: Path, tmp_path: Path) -> None:
    with serving(installed, tmp_path / "store", tmp_path / "serve.log") as url:
        health = httpx.get(f"{url}/health", timeout=30)
        assert health.status_code == 200
        assert health.json()["models"] >= 7  # seeded from the examples shipped in the wheel

        models = httpx.get(f"{url}/models", timeout=30)
        assert models.status_code == 200, models.text
        listed = models.json()
        assert listed["total"] == health.json()["models"]
        assert "phi-3-mini" in {model["id"] for model in listed["models"]}

        ontology = httpx.get(f"{url}/ontology", headers={"Accept": "text/turtle"}, timeout=30)
        assert ontology.status_code == 200, ontology.text
        graph = Graph().parse(data=ontology.text, format="turtle")
        assert (LMKG.SmallLanguageModel, RDF.type, OWL.Class) in graph

        # A named query, read from the .rq files in the wheel.
        query = httpx.get(f"{url}/queries/models-by-kind", params={"kind": "slm"}, timeout=30)
        assert query.status_code == 200, query.text
        assert "phi-3-mini" in query.text.lower()
