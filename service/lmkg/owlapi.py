"""OWL/XML through the OWL API (Java, Debian's libowlapi-java), the library Protégé is built on."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from rdflib import Graph

from lmkg.errors import LmkgError

_JARS = [
    "owlapi-api",
    "owlapi-impl",
    "owlapi-parsers",
    "owlapi-apibinding",
    "owlapi-oboformat",
    "owlapi-tools",
    "guava",
    "caffeine",
    "commons-rdf-api",
    "commons-io",
    "commons-codec",
    "hppcrt",
    "jsr305",
    "atinject-jsr330-api",
    "xz",
    "slf4j-api",
    "slf4j-nop",
    "jackson-core",
    "jackson-databind",
    "jackson-annotations",
    "httpclient",
    "httpcore",
    "commons-logging",
]
_SOURCE = Path(str(resources.files("lmkg") / "java" / "OwlConvert.java"))  # package data, on disk
_cache: dict[str, bytes] = {}


class OwlApiUnavailableError(LmkgError):
    """Java or the OWL API is missing: this server cannot write OWL/XML (the other formats work)."""

    status = 501


def _classpath() -> str:
    jars = [Path("/usr/share/java") / f"{name}.jar" for name in _JARS]
    present = [str(j) for j in jars if j.is_file()]
    if not present or shutil.which("java") is None or shutil.which("javac") is None:
        raise OwlApiUnavailableError(
            "OWL/XML export needs Java (a JDK) and the OWL API: install Debian's "
            "default-jdk-headless and libowlapi-java"
        )
    return os.pathsep.join(present)


def _compiled(classpath: str) -> Path:
    build = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lmkg" / "java"
    target = build / "OwlConvert.class"
    if not target.is_file() or target.stat().st_mtime < _SOURCE.stat().st_mtime:
        build.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["javac", "-nowarn", "-d", str(build), "-cp", classpath, str(_SOURCE)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return build


def to_owlxml(graph: Graph) -> bytes:
    """The ontology as OWL/XML, cached per content (the JVM takes a second or two to start)."""
    ntriples = graph.serialize(format="nt", encoding="utf-8")
    key = hashlib.sha256(ntriples).hexdigest()
    if key in _cache:
        return _cache[key]
    classpath = _classpath()
    build = _compiled(classpath)
    with tempfile.TemporaryDirectory(prefix="lmkg-owlxml-") as tmp:
        source = Path(tmp) / "ontology.owl"
        source.write_bytes(graph.serialize(format="xml", encoding="utf-8"))
        target = Path(tmp) / "ontology.owx"
        completed = subprocess.run(
            ["java", "-cp", f"{build}{os.pathsep}{classpath}", "OwlConvert", str(source), str(target)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if completed.returncode != 0:
            raise LmkgError(f"the OWL API could not convert the ontology: {completed.stderr.strip()[:2000]}")
        data = target.read_bytes()
    _cache[key] = data
    return data
