"""The UI on a server started with LMKG_READ_TOKEN: the page loads, asks for the token, and then
sends it on every read (the API, the SPARQL editor, its downloads)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ui.conftest import READ_TOKEN, PageLog, Service


def test_the_ui_asks_for_the_read_token_then_uses_it(
    page: Page, page_log: PageLog, guarded_service: Service
) -> None:
    assert guarded_service.get("/models").status_code == 401
    page.goto(f"{guarded_service.url}/#/models")
    expect(page.locator(".error")).to_contain_text("LMKG_READ_TOKEN", timeout=30_000)
    page.get_by_label("Access token").fill(READ_TOKEN)
    page.get_by_role("button", name="Use this token").click()
    rows = page.locator("#model-results table tbody tr")
    expect(rows.first).to_be_visible(timeout=30_000)
    # The token stays for the tab: the SPARQL editor sends it with its queries and downloads.
    page.goto(f"{guarded_service.url}/#/sparql")
    page.get_by_role("button", name="Models that are portable and cheap to fine-tune").click()
    expect(page.locator("#results table tbody tr").first).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("model") and len(lines) > 1
    page_log.assert_clean(answered=(401,))


def test_a_wrong_read_token_is_refused_and_can_be_replaced(
    page: Page, page_log: PageLog, guarded_service: Service
) -> None:
    page.goto(f"{guarded_service.url}/#/charts")
    page.get_by_label("Access token").fill("not-the-token")
    page.get_by_role("button", name="Use this token").click()
    expect(page.locator(".error")).to_contain_text("Error 401", timeout=30_000)
    page.get_by_label("Access token").fill(READ_TOKEN)
    page.get_by_role("button", name="Use this token").click()
    expect(page.locator("#size-summary")).to_be_visible(timeout=30_000)
    page_log.assert_clean(answered=(401,))
