"""The install step's build hook: the browser UI's front-end libraries, from the npm registry.

pyproject.toml holds the package's metadata; this file only adds a `build_py` that runs
`npm ci` and `npm run build` in web/ (web/package.json and its lock file) when the files
they make under service/lmkg/web/vendor/ are missing or were made from another lock file.
setuptools runs build_py for `pip install .` and for `pip install -e .` (editable wheels),
so either install leaves a UI that needs no internet. LMKG_SKIP_WEB_BUILD=1 skips it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
WEB = ROOT / "web"
VENDOR = ROOT / "service" / "lmkg" / "web" / "vendor"


def _lock_hash() -> str:
    return hashlib.sha256((WEB / "package-lock.json").read_bytes()).hexdigest()


def web_is_current() -> bool:
    """True when vendor/ was built from the present lock file (its BUILD stamp holds the hash)."""
    stamp = VENDOR / "BUILD"
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == _lock_hash()


def build_web() -> None:
    """npm ci and the copy into the package, unless vendor/ is current."""
    if os.environ.get("LMKG_SKIP_WEB_BUILD") == "1" or not (WEB / "package.json").is_file():
        return
    if web_is_current():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "lmkg: building the browser UI needs npm (Debian: apt-get install npm), which is missing; "
            "install it, or set LMKG_SKIP_WEB_BUILD=1 to install without the UI."
        )
    for command in ([npm, "ci", "--no-audit", "--no-fund"], [npm, "run", "build"]):
        print("lmkg: " + " ".join(command[1:]) + " in web/", flush=True)
        subprocess.run(command, cwd=WEB, check=True)


class BuildPyWithWeb(build_py):
    """build_py that builds the UI's vendor files first, so package data includes them."""

    def run(self) -> None:
        build_web()
        super().run()


setup(cmdclass={"build_py": BuildPyWithWeb})
