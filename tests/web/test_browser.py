"""The lookup UI in a real browser (Debian's chromium driven by Playwright) on the real data:
type part of a Swedish occupation name, choose a suggestion with the keyboard, land on the
concept page, follow its mapping to ESCO, switch language, open the scheme tree; and check
accessibility in the browser (labels, visible focus, contrast computed from the styles).

Screenshots go to test-artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from kll_graph.settings import REPO_ROOT
from kll_graph.testing import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
NURSE = "http://data.jobtechdev.se/taxonomy/concept/bXNH_MNX_dUR"
NURSE_LABEL = "Sjuksköterska, grundutbildad"

#: WCAG 2 contrast of two CSS colours, computed in the page from the computed styles.
CONTRAST_JS = """
([fgSel, bgSel, prop]) => {
  const parse = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const fgEl = document.querySelector(fgSel);
  const bgEl = document.querySelector(bgSel);
  if (!fgEl || !bgEl) return null;
  const fg = parse(getComputedStyle(fgEl).color);
  const bg = parse(getComputedStyle(bgEl)[prop || "backgroundColor"]);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
"""

UNLABELLED_JS = """
() => [...document.querySelectorAll("input, select, textarea, button")]
  .filter((el) => el.type !== "hidden" && !el.hidden && el.offsetParent !== null)
  .filter((el) => {
    if (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")) return false;
    if (el.id && document.querySelector(`label[for="${el.id}"]`)) return false;
    if (el.closest("label")) return false;
    if (el.tagName === "BUTTON" && el.textContent.trim()) return false;
    return true;
  })
  .map((el) => el.outerHTML.slice(0, 120))
"""

FOCUS_JS = """
() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  return {tag: el.tagName, id: el.id, outlineStyle: s.outlineStyle,
          outlineWidth: parseFloat(s.outlineWidth), boxShadow: s.boxShadow};
}
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium; `make browser`)"
        if os.environ.get("KLL_REQUIRE_REAL_DATA") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS / "browser", ignore_errors=True)
    (ARTIFACTS / "browser").mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / "browser"


def _new_page(browser: Any, locale: str) -> Any:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def _check_accessibility(page: Any, where: str) -> None:
    assert page.evaluate(UNLABELLED_JS) == [], f"controls without a label on {where}"
    body = page.evaluate(CONTRAST_JS, ["main", "body", "backgroundColor"])
    assert body is not None and body >= 7.0, f"main text contrast {body} on {where}"
    link = page.evaluate(CONTRAST_JS, ["main a[href]", "body", "backgroundColor"])
    assert link is not None and link >= 4.5, f"link contrast {link} on {where}"
    muted = page.evaluate(CONTRAST_JS, [".muted", "body", "backgroundColor"])
    if muted is not None:
        assert muted >= 4.5, f"muted text contrast {muted} on {where}"


def test_search_choose_follow_mapping_switch_language(
    browser: Any, real_server: LiveServer, artifacts: Path
) -> None:
    page = _new_page(browser, "sv-SE")
    page.goto(real_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "sv"
    _check_accessibility(page, "the home page")

    # keyboard focus is visible on the search box
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    while page.evaluate("document.activeElement.id") != "q":
        page.keyboard.press("Tab")
    focus = page.evaluate(FOCUS_JS)
    assert focus["outlineStyle"] != "none" and focus["outlineWidth"] >= 2, focus

    # type part of a Swedish occupation name: an ARIA combobox offers suggestions
    box = page.locator("#q")
    box.press_sequentially("sjuksköt", delay=40)
    listbox = page.locator("#q-listbox")
    listbox.locator("[role=option]").first.wait_for(state="visible")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-controls") == "q-listbox"
    options = listbox.locator("[role=option]")
    texts = options.all_inner_texts()
    assert any(NURSE_LABEL in t and "JobTech" in t and "Yrkesbenämning" in t for t in texts), texts
    assert any("ESCO" in t for t in texts), texts
    assert re.search(r"\d+ förslag", page.locator("[role=status]").inner_text())
    page.screenshot(path=str(artifacts / "1-autocomplete.png"))

    # choose the JobTech nurse with the arrow keys and Enter
    target = next(i for i, t in enumerate(texts) if NURSE_LABEL in t and "JobTech" in t)
    for _ in range(target + 1):
        box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    assert page.locator(f"#{active}").get_attribute("data-uri") == NURSE
    with page.expect_navigation():
        box.press("Enter")
    assert "/page?uri=" in page.url and unquote(page.url).endswith(NURSE)

    # the concept page: label, its SSYK path, its mapping to ESCO
    assert page.locator("h1").inner_text() == NURSE_LABEL
    assert "Grundutbildade sjuksköterskor" in page.locator("nav.paths").inner_text()
    _check_accessibility(page, "the concept page")
    page.screenshot(path=str(artifacts / "2-concept-jobtech.png"), full_page=True)
    mapping = page.locator(".mapping-list a[href*='esco/occupation/']").first
    esco_label = mapping.inner_text()
    with page.expect_navigation():
        mapping.click()
    assert "data.europa.eu/esco/occupation/" in unquote(page.url)
    assert page.locator("h1").inner_text() == esco_label
    assert page.locator("#h-essential_skills").inner_text().startswith("Nödvändiga kompetenser")
    # the way back: the JobTech concept is listed among the ESCO concept's mappings
    assert page.locator(f".mapping-list a[href*='{NURSE.rsplit('/', 1)[1]}']").count() == 1
    page.screenshot(path=str(artifacts / "3-concept-esco-sv.png"), full_page=True)

    # switch language: the same page in English, remembered for the next page
    with page.expect_navigation():
        page.locator("nav.lang-switch a", has_text="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#h-essential_skills").inner_text().startswith("Essential skills")
    english = page.locator("h1").inner_text()
    assert english and english != esco_label  # ESCO has English labels
    page.screenshot(path=str(artifacts / "4-concept-esco-en.png"), full_page=True)
    page.goto(real_server.url + "/")
    assert page.locator("label[for=q]").inner_text() == "Search concepts"
    page.context.close()


def test_scheme_tree_expands_on_demand(
    browser: Any, real_server: LiveServer, artifacts: Path
) -> None:
    page = _new_page(browser, "sv-SE")
    page.goto(real_server.url + "/scheme?id=jobtech/ssyk-level-1")
    toggles = page.locator("#tree button.toggle")
    assert toggles.count() >= 5
    first = toggles.first
    assert first.is_visible()
    assert first.get_attribute("aria-expanded") == "false"
    before = page.locator("#tree li").count()
    first.focus()
    focus = page.evaluate(FOCUS_JS)
    assert focus["tag"] == "BUTTON"
    first.press("Enter")  # keyboard-usable
    page.wait_for_function("() => document.querySelector('#tree > li > ul li a') !== null")
    assert first.get_attribute("aria-expanded") == "true"
    assert page.locator("#tree li").count() > before
    child = page.locator("#tree > li > ul button.toggle").first
    child.click()
    page.wait_for_function(
        "() => document.querySelector('#tree > li > ul > li > ul li a') !== null"
    )
    _check_accessibility(page, "the scheme page")
    page.screenshot(path=str(artifacts / "5-scheme-tree.png"), full_page=True)
    first.click()
    assert first.get_attribute("aria-expanded") == "false"
    assert not page.locator("#tree > li > ul").first.is_visible()
    page.context.close()


def test_pages_work_without_javascript(real_server: LiveServer, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.goto(real_server.url + "/")
    page.fill("#q", "systemutvecklare")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert "/search?q=systemutvecklare" in page.url
    link = page.locator("ol.hits a").first
    with page.expect_navigation():
        link.click()
    assert "/page?uri=" in page.url
    page.goto(real_server.url + "/scheme?id=jobtech/ssyk-level-1")
    assert page.locator("#tree button.toggle").first.is_hidden()  # no dead buttons
    assert page.locator("#tree a").count() >= 5  # every node still links to its page
    context.close()


def test_search_filters_send_what_the_api_accepts(real_server: LiveServer, browser: Any) -> None:
    """The facet form (no JavaScript needed) sends `include_deprecated=true` and the checked
    types, which the page and its API twin both accept."""
    page = _new_page(browser, "sv-SE")
    page.goto(real_server.url + "/search?q=sjuksköterska")
    page.locator("input[name=include_deprecated]").check()
    page.locator("input[name=type]").first.check()
    with page.expect_navigation():
        page.locator(".facets button[type=submit]").click()
    assert "include_deprecated=true" in page.url and "type=" in page.url
    assert page.locator("input[name=include_deprecated]").is_checked()
    assert page.locator("ol.hits a").count() >= 1
    twin = page.locator("a[href^='/api/v1/search']").first.get_attribute("href")
    assert twin and "include_deprecated=true" in twin
    answer = page.request.get(real_server.url + twin)
    assert answer.status == 200 and answer.json()["results"]
    page.context.close()
