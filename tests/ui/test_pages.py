"""The browser UI in headless Chromium against a real `lmkg serve`: each page loads without console
errors or requests off this machine, and does what it is for."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TOKEN
from tests.ui.conftest import PageLog, Service, screenshot

DATA = Path(__file__).parent.parent / "data"

PAGES = [
    pytest.param("#/models", "h1:text('Models')", "#model-results table tbody tr", id="models"),
    pytest.param("#/models/phi-3-mini", "h1:text('Phi-3-mini')", "#explanation li", id="model"),
    pytest.param("#/sparql", "h1:text('SPARQL editor')", ".named-queries button", id="sparql"),
    pytest.param("#/ontology/SmallLanguageModel", "#class-h", ".class-tree a", id="ontology"),
    pytest.param("#/charts", "h1:text('Charts')", "#size-chart", id="charts"),
    pytest.param("#/validate", "h1:text('Validate an entry')", "#entry-text", id="validate"),
]

# Every control a person can operate, with its accessible name (or "" when it has none).
UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((c) => c.offsetParent !== null && c.type !== 'hidden')
  .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
    && !c.getAttribute('aria-labelledby') && !c.getAttribute('title') && !c.textContent.trim())
  .map((c) => c.outerHTML.slice(0, 120))"""


def _open(page: Page, service: Service, route: str, ready: str) -> None:
    page.goto(f"{service.url}/{route}")
    expect(page.locator(ready).first).to_be_visible(timeout=30_000)


@pytest.mark.parametrize(("route", "heading", "ready"), PAGES)
def test_page_loads_cleanly(
    page: Page, page_log: PageLog, service: Service, route: str, heading: str, ready: str
) -> None:
    _open(page, service, route, ready)
    expect(page.locator(heading)).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot(page, route.strip("#/").replace("/", "-"))
    assert page.evaluate(UNNAMED_CONTROLS) == []
    page_log.assert_clean()


@pytest.mark.parametrize(("route", "heading", "ready"), PAGES)
def test_page_fits_a_narrow_screen(
    narrow_page: Page, page_log: PageLog, service: Service, route: str, heading: str, ready: str
) -> None:
    _open(narrow_page, service, route, ready)
    narrow_page.wait_for_load_state("networkidle")
    overflow = narrow_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    screenshot(narrow_page, "narrow-" + route.strip("#/").replace("/", "-"))
    assert overflow <= 0, f"the page is {overflow} px wider than a 375 px screen"
    page_log.assert_clean()


def test_the_guard_catches_a_request_off_this_machine(
    page: Page, page_log: PageLog, service: Service
) -> None:
    """The check every test ends with can fail: a request to another host is recorded, not sent."""
    _open(page, service, "#/models", "#model-results table tbody tr")
    outcome = page.evaluate("fetch('https://example.org/font.woff2').then(() => 'sent', () => 'refused')")
    assert outcome == "refused"
    assert page_log.external == ["https://example.org/font.woff2"]
    with pytest.raises(AssertionError):
        page_log.assert_clean()
    page_log.errors.clear()  # Chromium also logs the refused request as an error
    with pytest.raises(AssertionError, match="leave localhost"):
        page_log.assert_clean()


def test_a_named_query_runs_and_shows_rows(page: Page, page_log: PageLog, service: Service) -> None:
    _open(page, service, "#/sparql", ".named-queries button")
    page.get_by_role("button", name="Models of one kind, as their sources classify them").click()
    rows = page.locator("#results table tbody tr")
    expect(rows.first).to_be_visible(timeout=30_000)
    expected = service.get("/queries/models-by-kind").json()["rows"]  # kind=slm by default
    assert rows.count() == len(expected) > 0
    cells = {cell.strip() for cell in page.locator("#results table tbody td").all_inner_texts()}
    assert {row["label"] for row in expected} <= cells
    # The editor shows what ran: the query with its parameter bound.
    assert 'VALUES (?kind) { ("slm") }' in page.evaluate(
        "document.querySelector('.CodeMirror').CodeMirror.getValue()"
    )
    # Another value for the parameter, from the form the named query brings.
    page.get_by_label("kind (string)").select_option("llm")
    page.get_by_role("button", name="Run with these values").click()
    llm = service.get("/queries/models-by-kind?kind=llm").json()["rows"]
    expect(rows).to_have_count(len(llm), timeout=30_000)
    # IRIs link into the model browser.
    link = page.locator("#results table tbody a[href^='#/models/']").first
    href = link.get_attribute("href")
    assert href is not None
    link.click()
    expect(page).to_have_url(f"{service.url}/{href}")
    expect(page.locator("#explanation")).to_be_visible(timeout=30_000)
    page_log.assert_clean()


def test_the_editor_runs_a_typed_query_and_offers_downloads(
    page: Page, page_log: PageLog, service: Service
) -> None:
    _open(page, service, "#/sparql", ".named-queries button")
    page.evaluate(
        "document.querySelector('.CodeMirror').CodeMirror.setValue("
        "'PREFIX lmkg: <https://w3id.org/lmkg/ontology#>\\nSELECT ?m WHERE { ?m a lmkg:PortableModel }')"
    )
    page.locator("#run-query").click()
    rows = page.locator("#results table tbody tr")
    expect(rows.first).to_be_visible(timeout=30_000)
    portable = service.get("/models?portable=true").json()["total"]
    assert rows.count() == portable
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "m" and len(lines) == portable + 1
    with page.expect_download() as download:
        page.get_by_role("link", name="Download JSON").click()
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert len(document["results"]["bindings"]) == portable
    page_log.assert_clean()


def test_a_filter_narrows_the_model_table(page: Page, page_log: PageLog, service: Service) -> None:
    _open(page, service, "#/models", "#model-results table tbody tr")
    rows = page.locator("#model-results table tbody tr")
    everything = service.get("/models").json()["total"]
    expect(rows).to_have_count(everything)
    page.get_by_label("Kind (as its source says)").select_option("llm")
    large = service.get("/models?kind=llm").json()
    assert 0 < large["total"] < everything
    expect(rows).to_have_count(large["total"])
    assert {row.inner_text() for row in rows.locator("td:nth-child(2)").all()} == {"LLM"}
    # Text search, from the keyboard: type and press Enter.
    page.get_by_label("Search name or description").fill("mistral")
    page.get_by_label("Search name or description").press("Enter")
    found = service.get("/models?kind=llm&search=mistral").json()
    expect(rows).to_have_count(found["total"])
    assert found["total"] < large["total"]
    # Back restores the table and the form.
    page.go_back()
    expect(rows).to_have_count(large["total"])
    expect(page.get_by_label("Search name or description")).to_have_value("")
    expect(page.get_by_label("Kind (as its source says)")).to_have_value("llm")
    # A value with characters that URLs reserve reaches the API as typed.
    page.get_by_label("Search name or description").fill("7b & more?")
    page.get_by_label("Search name or description").press("Enter")
    expect(page.locator("#model-count")).to_have_text("0 models")
    page.reload()  # the form is filled from the URL alone
    expect(page.get_by_label("Search name or description")).to_have_value("7b & more?")
    assert service.get("/models?kind=llm&search=7b%20%26%20more%3F").json()["total"] == 0
    page_log.assert_clean()


def test_the_table_sorts_and_pages(page: Page, page_log: PageLog, service: Service) -> None:
    _open(page, service, "#/models?limit=25", "#model-results table tbody tr")
    page.get_by_role("button", name="Parameters").click()
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Parameters")
    page.get_by_role("button", name="Parameters").click()
    expect(page.locator("th[aria-sort='descending']")).to_contain_text("Parameters")
    largest = service.get("/models?sort=parameterCount&direction=desc&limit=1").json()["models"][0]
    expect(page.locator("#model-results tbody tr").first.locator("th")).to_have_text(largest["label"])
    total = service.get("/models").json()["total"]
    page.get_by_label("Per page").select_option("25")
    expect(page.locator(".pager")).to_contain_text(f"1\u2013{min(25, total)} of {total}")
    page_log.assert_clean()


def test_a_model_page_shows_its_explanation(page: Page, page_log: PageLog, service: Service) -> None:
    explanation = service.get("/models/phi-3-mini/explain").json()
    _open(page, service, "#/models/phi-3-mini", "#explanation li")
    section = page.locator("#explanation")
    for conclusion in explanation["conclusions"]:
        expect(section).to_contain_text(conclusion["statement"])
    first_axiom = next(c["axiom"] for c in explanation["conclusions"] if c.get("axiom"))
    expect(section).to_contain_text(first_axiom)
    expect(page.locator("#prov-h")).to_be_visible()
    expect(page.locator("#disagreements")).to_be_visible()
    for disagreement in explanation["disagreements"]:
        expect(page.locator("#disagreements")).to_contain_text(disagreement)
    page_log.assert_clean()


def test_a_browser_following_a_model_iri_lands_on_its_page(
    page: Page, page_log: PageLog, service: Service
) -> None:
    """/model/{id} is where the model's IRI resolves: a browser asking for HTML gets the UI page."""
    page.goto(f"{service.url}/model/phi-3-mini")
    expect(page.locator("h1")).to_have_text("Phi-3-mini", timeout=30_000)
    expect(page.locator("#explanation li").first).to_be_visible(timeout=30_000)
    assert page.url.endswith("/#/models/phi-3-mini")
    page_log.assert_clean()


def test_the_ontology_explorer_shows_axioms_claims_and_members(
    page: Page, page_log: PageLog, service: Service
) -> None:
    detail = service.get("/classes/SmallLanguageModel").json()
    _open(page, service, "#/ontology", ".class-tree a")
    page.locator(".class-tree a", has_text=detail["label"]).first.click()
    expect(page.locator("#class-h")).to_contain_text(detail["label"])
    for axiom in detail["axioms"]:
        expect(page.locator(".axioms")).to_contain_text(axiom)
    assert detail["sourceStatements"]
    for statement in detail["sourceStatements"]:
        expect(page.locator(".claims")).to_contain_text(statement)
    expect(page.locator(".member-list li")).to_have_count(len(detail["memberList"]))
    page_log.assert_clean()


def test_an_invalid_entry_shows_its_error_messages(page: Page, page_log: PageLog, service: Service) -> None:
    entry = (DATA / "invalid-entries" / "parameter-count-negative.json").read_text(encoding="utf-8")
    _open(page, service, "#/validate", "#entry-text")
    page.get_by_label("Entry", exact=True).fill(entry)
    page.get_by_role("button", name="Validate", exact=True).click()
    result = page.locator("#validation-result")
    expect(result.locator("h2")).to_have_text("bad-model does not conform", timeout=30_000)
    expect(result.locator("ol.report li").first).to_contain_text("parameterCount: ")
    expect(result).to_contain_text("must be one positive whole number")
    page_log.assert_clean()


def test_an_unreadable_entry_shows_where_it_fails(page: Page, page_log: PageLog, service: Service) -> None:
    _open(page, service, "#/validate", "#entry-text")
    page.locator("#entry-file").set_input_files(str(DATA / "invalid-entries" / "unknown-kind.json"))
    expect(page.get_by_label("Format")).to_have_value("json")
    page.get_by_role("button", name="Validate", exact=True).click()
    expect(page.locator("#validation-result .error")).to_contain_text(
        "must be 'llm' or 'slm'", timeout=30_000
    )
    page_log.assert_clean(answered=(422,))


def test_a_turtle_entry_is_validated_then_stored_with_the_token(
    page: Page, page_log: PageLog, service: Service
) -> None:
    _open(page, service, "#/validate", "#entry-text")
    page.locator("#entry-file").set_input_files(str(DATA / "entries" / "new-slm.ttl"))
    page.get_by_role("button", name="Validate", exact=True).click()
    result = page.locator("#validation-result")
    expect(result.locator("h2")).to_contain_text("conforms", timeout=30_000)
    expect(result).to_contain_text("It would be classified as")
    page.get_by_label("Write token").fill("not-the-token")
    page.get_by_role("button", name="Validate and store").click()
    expect(result.locator(".error")).to_contain_text("not valid for writes", timeout=30_000)
    page.get_by_label("Write token").fill(TOKEN)
    page.get_by_role("button", name="Validate and store").click()
    expect(result.locator("h2")).to_have_text("Stored", timeout=30_000)
    result.get_by_role("link").first.click()
    expect(page.locator("#explanation")).to_be_visible(timeout=30_000)
    page_log.assert_clean(answered=(403,))


def test_the_chart_renders_with_points(page: Page, page_log: PageLog, service: Service) -> None:
    data = service.get("/ui/charts").json()
    _open(page, service, "#/charts", "#size-chart")
    plotted = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.getElementById('size-chart'));
          return chart.data.datasets.map((d, i) => ({
            label: d.label, drawn: chart.getDatasetMeta(i).data.filter((p) => !p.skip).length,
            y: d.data.map((p) => p.y) }));
        }"""
    )
    slm = sum(1 for p in data["points"] if p["kind"] == "slm")
    llm = len(data["points"]) - slm
    assert [d["drawn"] for d in plotted] == [slm, llm, 2] and slm > 0 and llm > 0
    assert plotted[2]["y"] == [data["threshold"], data["threshold"]]
    scale = page.evaluate("Chart.getChart(document.getElementById('size-chart')).scales.y.type")
    assert scale == "logarithmic"
    # The points are on the canvas: pixels in the SLM colour.
    coloured = page.evaluate(
        """() => {
          const canvas = document.getElementById('size-chart');
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 0; i < pixels.length; i += 4)
            if (Math.abs(pixels[i] - 0x1b) < 40 && Math.abs(pixels[i + 1] - 0x7f) < 40 && Math.abs(pixels[i + 2] - 0x6b) < 40) n++;
          return n;
        }"""
    )
    assert coloured > 20
    bars = page.evaluate(
        "Chart.getChart(document.getElementById('year-chart')).data.datasets.map((d) => d.data)"
    )
    per_year = {(r["year"], r["kind"]): r["models"] for r in data["perYear"]}
    assert sum(bars[0]) + sum(bars[1]) == sum(per_year.values())
    page_log.assert_clean()


def test_keyboard_alone_filters_the_models(page: Page, page_log: PageLog, service: Service) -> None:
    _open(page, service, "#/models", "#model-results table tbody tr")
    # The skip link is the first stop, and it leads to the content.
    for _ in range(12):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent") == "Skip to content":
            break
    else:
        pytest.fail("Shift+Tab from the heading never reached the skip link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "filter-kind":
            break
    else:
        pytest.fail("Tab never reached the kind filter")
    page.keyboard.press("ArrowDown")  # any -> small (SLM)
    small = service.get("/models?kind=slm").json()["total"]
    expect(page.locator("#model-results table tbody tr")).to_have_count(small)
    # Into the first model's page and back, by keyboard.
    page.locator("#model-results tbody a").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#explanation")).to_be_visible(timeout=30_000)
    page_log.assert_clean()


def test_a_model_page_shows_each_verdict_with_its_basis(page: Page, page_log: PageLog, service: Service) -> None:
    """Issue 12: each verdict with its basis, and where the source's generalisation differs."""
    _open(page, service, "#/models/mistral-7b", "#verdicts tbody tr")
    portable = page.locator("#verdicts tr[data-trait='portable']")
    expect(portable).to_contain_text("yes")
    expect(portable).to_contain_text("size rule")
    expect(portable).to_contain_text("7.3 billion parameters")
    # The source calls Mistral 7B an LLM and says LLMs "typically" lack portability: shown, and flagged.
    expect(portable).to_contain_text("differs from the evidence")
    expect(page.locator("#verdicts")).to_contain_text("typically require significant computational resources")
    _open(page, service, "#/models/gpt-4", "#verdicts tbody tr")
    expect(page.locator("#verdicts tr[data-trait='portable'] td.verdict")).to_have_text("unknown")
    expect(page.locator("#verdicts tr[data-trait='portable']")).to_contain_text("no evidence")
    _open(page, service, "#/models/phi-3-mini", "#verdicts tbody tr")
    expect(page.locator("#verdicts tr[data-trait='portable']")).to_contain_text("observed")
    expect(page.locator("#statements")).to_contain_text("Runs on phone at 4-bit")
    page_log.assert_clean()


def test_a_model_page_shows_its_lineage_both_ways(page: Page, page_log: PageLog, service: Service) -> None:
    """Issue 13: a model's bases and what was derived from it, and its training data, on its page."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    base = {"kind": "llm", "developer": "Lineage Lab", "sources": ["https://example.org/lineage"], "openWeights": True}
    child = {**base, "id": "ui-mistral-tune", "label": "UI Mistral Tune", "fineTunedFrom": "mistral-7b",
             "derivation": "fine-tune", "parameterCount": 7_300_000_000}
    grandchild = {**base, "id": "ui-mistral-merge", "label": "UI Mistral Merge", "fineTunedFrom": "ui-mistral-tune",
                  "derivation": "merge", "parameterCount": 7_300_000_000}
    try:
        for entry in (child, grandchild):
            created = httpx.post(service.url + "/models", json=entry, headers=auth, timeout=60)
            assert created.status_code == 201, created.text
        _open(page, service, "#/models/mistral-7b", "#lineage")
        descendants = page.locator("#lineage-descendants")
        expect(descendants).to_contain_text("UI Mistral Tune")
        expect(descendants).to_contain_text("UI Mistral Merge")
        expect(descendants).to_contain_text("merge")
        _open(page, service, "#/models/ui-mistral-merge", "#lineage-bases li")
        expect(page.locator("#lineage-bases")).to_contain_text("UI Mistral Tune")
        expect(page.locator("#lineage-bases")).to_contain_text("Mistral 7B")
        # The shipped data: Orca 2 7B was fine-tuned from Llama 2 7B; GPT-Neo was trained on the Pile.
        _open(page, service, "#/models/orca-2-7b", "#lineage-bases li")
        expect(page.locator("#lineage-bases")).to_contain_text("Llama 2 7B")
        _open(page, service, "#/models/gpt-neo-1.3b", "#lineage-datasets li")
        expect(page.locator("#lineage-datasets")).to_contain_text("The Pile")
        page_log.assert_clean()
    finally:
        for entry in (grandchild, child):
            httpx.delete(f"{service.url}/models/{entry['id']}", headers=auth, timeout=60)
