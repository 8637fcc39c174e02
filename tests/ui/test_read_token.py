"""The UI on a server started with LMKG_READ_TOKEN: the page loads, asks for the token, and then
sends it on every read (the API, the SPARQL editor, its downloads)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, Route, expect

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
    expect(page.locator(".error")).to_contain_text("Error 401", timeout=30_000)
    page.get_by_label("Access token").fill("not-the-token")
    with page.expect_response(lambda r: r.status == 401 and "/ui/charts" in r.url):
        page.get_by_role("button", name="Use this token").click()
    expect(page.locator(".error")).to_contain_text("Error 401", timeout=30_000)
    page.get_by_label("Access token").fill(READ_TOKEN)
    page.get_by_role("button", name="Use this token").click()
    expect(page.locator("#size-summary")).to_be_visible(timeout=30_000)
    page_log.assert_clean(answered=(401,))


def test_the_answer_to_a_replaced_token_does_not_overwrite_the_page(
    page: Page, page_log: PageLog, guarded_service: Service
) -> None:
    """A token replaced while its request is in flight: the late 401 must not undo the page
    that the new token's answer drew (found by the test above, on a loaded machine)."""
    held: list[Route] = []

    def hold_the_wrong_token(route: Route) -> None:
        if route.request.headers.get("authorization") == "Bearer not-the-token":
            held.append(route)
        else:
            route.continue_()

    page.route("**/ui/charts", hold_the_wrong_token)
    page.goto(f"{guarded_service.url}/#/charts")
    expect(page.locator(".error")).to_contain_text("Error 401", timeout=30_000)
    page.get_by_label("Access token").fill("not-the-token")
    page.get_by_role("button", name="Use this token").click()
    page.wait_for_function("sessionStorage.getItem('lmkg-read-token') === 'not-the-token'")
    page.get_by_label("Access token").fill(READ_TOKEN)
    page.get_by_role("button", name="Use this token").click()
    expect(page.locator("#size-summary")).to_be_visible(timeout=30_000)
    assert len(held) == 1
    with page.expect_response(lambda r: r.status == 401 and "/ui/charts" in r.url):
        held[0].continue_()
    page.wait_for_timeout(300)  # let the late answer's handler run
    expect(page.locator("#size-summary")).to_be_visible()
    expect(page.locator(".error")).to_have_count(0)
    page_log.assert_clean(answered=(401,))
