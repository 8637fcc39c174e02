"""Fixtures for the browser tests: a real `lmkg serve` on a temporary store, and Debian's Chromium
driven by Playwright, with every page's console errors and off-machine requests recorded.

Chromium is the system's (/usr/bin/chromium, `apt-get install chromium`, which .ci/run does);
Playwright never downloads a browser here. Screenshots go to tests/ui/artifacts/ (or
$LMKG_UI_ARTIFACTS), kept after the run for a person to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.conftest import TOKEN, free_port, wait_for_port

CHROMIUM = Path(os.environ.get("LMKG_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("LMKG_UI_ARTIFACTS", Path(__file__).parent / "artifacts"))
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@dataclass
class Service:
    """A running `lmkg serve`."""

    url: str
    process: subprocess.Popen[bytes]

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60)


READ_TOKEN = "read-token-for-ui-tests"


@contextmanager
def serving(store: Path, **settings: str) -> Iterator[Service]:
    """`lmkg serve` as users start it, on a fresh embedded store seeded with the examples."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "LMKG_READ_TOKEN"},
        "LMKG_STORE": str(store),
        "LMKG_TOKEN": TOKEN,
        "LMKG_HOST": "127.0.0.1",
        "LMKG_PORT": str(port),
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "lmkg.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=90)
        running = Service(f"http://127.0.0.1:{port}", process)
        assert running.get("/health").status_code == 200
        if running.get("/").status_code != 200:
            pytest.fail("the UI's front-end libraries are not built: run `pip install -e .` (it needs npm)")
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service with reads open."""
    with serving(tmp_path_factory.mktemp("ui-store") / "store") as running:
        yield running


@pytest.fixture(scope="module")
def guarded_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service with LMKG_READ_TOKEN set: every read needs READ_TOKEN (or the write token)."""
    with serving(
        tmp_path_factory.mktemp("ui-guarded-store") / "store", LMKG_READ_TOKEN=READ_TOKEN
    ) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium from Debian's package."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@dataclass
class PageLog:
    """What a page did that it must not: console errors, uncaught exceptions, requests off this machine."""

    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)

    def assert_clean(self, *, answered: tuple[int, ...] = ()) -> None:
        """No errors but Chromium's note of each response with an `answered` status, which the
        page asked for on purpose (a 422 for an entry that cannot be read, a 403 for a wrong token)."""
        expected = tuple(f"the server responded with a status of {status} " for status in answered)
        errors = [e for e in self.errors if not any(note in e for note in expected)]
        assert not errors, f"errors in the browser console: {errors}"
        assert not self.external, f"requests that would leave localhost: {self.external}"


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


def _open_page(browser: Browser, log: PageLog, *, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})

    def guard(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            log.external.append(url)
            route.abort()

    # Every request passes this guard: one for another host is recorded and never sent.
    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and log.errors.append(message.text))
    page.on("pageerror", lambda error: log.errors.append(f"uncaught: {error}"))
    return page


@pytest.fixture
def page(browser: Browser, page_log: PageLog) -> Iterator[Browser]:
    """A desktop-sized page in its own browser context."""
    opened = _open_page(browser, page_log, width=1280, height=900)
    yield opened
    opened.context.close()


@pytest.fixture
def narrow_page(browser: Browser, page_log: PageLog) -> Iterator[Browser]:
    """A phone-sized page (375 px wide)."""
    opened = _open_page(browser, page_log, width=375, height=740)
    yield opened
    opened.context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot of the whole page as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
