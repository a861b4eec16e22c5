"""The dashboard's accessibility, measured in a real Chromium (WCAG 2.2 AA, issue 13).

- axe-core (the copy that axe-playwright-python bundles) on every page, for every role that can
  see it, at 1,280 px and at 390 px (a phone), forms shown with their errors: no serious or
  critical violation;
- no page scrolls sideways at 390 px: wide tables scroll inside their own labelled region;
- every status badge, heatmap cell, due tag and chart key has the contrast AA asks for, computed
  from the colours Chromium actually paints (not from the style sheet's source);
- status is never carried by colour alone: every cell names its status in text, and the trend
  chart's lines differ in dash as well as colour;
- a skip link, and GOV.UK's error summary and date input on a failed form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web_browser import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    WEAK_REPO,
    Browsing,
    Site,
    chromium,
    follow,
    open_context,
    running_site,
    sign_in,
)

from secposture.model import EstateReport, EstateRepository
from secposture.reports import estate_html, html_format
from secposture.reports.interface import RenderOptions
from secposture.web.auth import allowed
from secposture.web.settings import ROLES

sync_api = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

EXPECTED_STATUS_LOG = "Failed to load resource: the server responded with a status of 4"
BLOCKING_IMPACTS = ("serious", "critical")
AA_TEXT, AA_LARGE_TEXT, AA_GRAPHICS = 4.5, 3.0, 3.0
# What carries a status: badges, heatmap and history cells, due tags, the trend chart's keys.
STATUS_SELECTORS = "span.status, span.due, table.heatmap td, table.strip td, .key"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(tmp_path_factory.mktemp("web-a11y")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as launched:
        yield launched


@pytest.fixture(scope="module")
def axe() -> Any:
    return axe_playwright.Axe()


def browse(browser: Any, width: int) -> tuple[Any, Browsing]:
    return open_context(browser, width=width, height=800 if width == DESKTOP else 844)


# --- the pages --------------------------------------------------------------------------------


def _open_details(page: Any) -> None:
    """Open every <details> (the product page's forms), so axe checks what they hold."""
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def _issue_form_with_errors(page: Any) -> None:
    form = page.locator("[data-testid=issue-form]")
    form.locator("[name=product]").select_option("Payments")
    form.locator("[name=environment]").fill("Debian 12")
    follow(form.locator("[data-testid=issue-submit]"))


def _risk_form_with_errors(page: Any) -> None:
    follow(page.locator("[data-testid=risk-submit]"))


def _risk_review_with_errors(page: Any) -> None:
    form = page.locator("[data-testid=risk-review-form]")
    form.locator("[name=reviewed_on-day]").fill("31")
    form.locator("[name=reviewed_on-month]").fill("2")
    form.locator("[name=reviewed_on-year]").fill("2026")
    follow(form.locator("[data-testid=risk-review-submit]"))


@dataclass(frozen=True)
class Visit:
    name: str
    path: Callable[[Site, str], str]  # (site, role) -> path
    capability: str | None  # None: the page is for those who lack every capability
    prepare: Callable[[Any], None] | None = None
    status: int = 200


VISITS = [
    Visit("estate", lambda s, r: "/", "view_estate"),
    Visit("repository", lambda s, r: f"/repository?name={WEAK_REPO}", "view_estate"),
    Visit(
        "repository (all statuses)",
        lambda s, r: "/repository?name=acme/payments-api",
        "view_estate",
    ),
    Visit("products", lambda s, r: "/products", "view_products"),
    Visit("product", lambda s, r: f"/products/{s.product_id}", "view_products", _open_details),
    Visit("due", lambda s, r: "/due?within=90", "view_due"),
    Visit("watch", lambda s, r: "/watch", "view_estate"),
    Visit("issue form", lambda s, r: "/issues/new", "raise_issue"),
    Visit("issue form, errors", lambda s, r: "/issues/new", "raise_issue", _issue_form_with_errors),
    Visit(
        "issue",
        lambda s, r: f"/issues/{s.engineers_issue_id if r == 'engineer' else s.issue_id}",
        "raise_issue",
    ),
    Visit("issues", lambda s, r: "/issues", "view_issues"),
    Visit("risks", lambda s, r: "/risks", "view_risks"),
    Visit("risk", lambda s, r: f"/risks/{s.risk_id}", "view_risks"),
    Visit(
        "risk, review errors",
        lambda s, r: f"/risks/{s.risk_id}",
        "manage_risks",
        _risk_review_with_errors,
    ),
    Visit("risk form", lambda s, r: "/risks/new", "manage_risks"),
    Visit("risk form, errors", lambda s, r: "/risks/new", "manage_risks", _risk_form_with_errors),
    Visit("waivers", lambda s, r: "/waivers?show=all", "view_waivers"),
    Visit("users", lambda s, r: "/users", "manage_users"),
    Visit("not found", lambda s, r: "/products/99999", "view_products", status=404),
    Visit("forbidden", lambda s, r: "/users", None, status=403),
]


def visits_for(role: str) -> list[Visit]:
    return [
        v
        for v in VISITS
        if (v.capability is None and not allowed(role, "manage_users"))
        or (v.capability is not None and allowed(role, v.capability))
    ]


def blocking(results: Any) -> list[str]:
    """axe's serious and critical violations, one line each with the elements they hit."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


def sideways(page: Any) -> int:
    """How far the page scrolls sideways (0: it fits the window)."""
    extra: int = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    return extra


def check_page(page: Any, axe: Any, where: str, problems: list[str], width: int) -> None:
    for line in blocking(axe.run(page)):
        problems.append(f"{where}: {line}")
    extra = sideways(page)
    if extra > 0:
        problems.append(f"{where}: scrolls sideways by {extra}px at {width}px")


# --- axe on every page, and no page wider than a phone ---------------------------------------


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_passes_axe_and_fits_the_window(
    site: Site, browser: Any, axe: Any, role: str, width: int
) -> None:
    context, browsing = browse(browser, width)
    page = browsing.page
    problems: list[str] = []
    try:
        sign_in(page, site.base, role)
        for visit in visits_for(role):
            response = page.goto(site.base + visit.path(site, role))
            assert response is not None and response.status == visit.status, visit.name
            if visit.prepare is not None:
                visit.prepare(page)
            check_page(page, axe, f"{role} {visit.name} @{width}", problems, width)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    # Nothing broke the CSP or a script (Chromium also logs each 4xx page it was sent).
    assert [e for e in browsing.console_errors if not e.startswith(EXPECTED_STATUS_LOG)] == []


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_the_sign_in_page_passes_axe_and_fits_the_window(
    site: Site, browser: Any, axe: Any, width: int
) -> None:
    context, browsing = browse(browser, width)
    page = browsing.page
    problems: list[str] = []
    try:
        page.goto(f"{site.base}/login")
        check_page(page, axe, f"sign in @{width}", problems, width)
        sign_in(page, site.base, "viewer", "not the password at all")
        check_page(page, axe, f"sign in, failed @{width}", problems, width)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


# --- contrast ---------------------------------------------------------------------------------

CONTRAST_JS = r"""(selector) => {
    const channel = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    const rgba = (text) => (text.match(/[\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const backgroundOf = (element) => {
        for (let e = element; e; e = e.parentElement) {
            const c = rgba(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    return [...document.querySelectorAll(selector)].filter((e) => e.getClientRects().length).map((e) => {
        const style = getComputedStyle(e);
        const isKey = e.classList.contains('key');
        // A chart key is a swatch (::before) against the page: graphics, not text.
        const fg = isKey ? rgba(getComputedStyle(e, '::before').backgroundColor).slice(0, 3)
                         : rgba(style.color).slice(0, 3);
        const bg = backgroundOf(isKey ? e.parentElement : e);
        const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
        const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
        return {
            what: (e.className || e.tagName) + ' ' + (e.textContent || '').trim().slice(0, 20),
            ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
            large: size >= 24 || (bold && size >= 18.66),
            graphic: isKey,
        };
    });
}"""


def contrast_failures(page: Any) -> tuple[list[dict[str, Any]], list[str]]:
    measured: list[dict[str, Any]] = page.evaluate(CONTRAST_JS, STATUS_SELECTORS)
    failures = []
    for m in measured:
        needed = AA_GRAPHICS if m["graphic"] else AA_LARGE_TEXT if m["large"] else AA_TEXT
        if m["ratio"] < needed:
            failures.append(f"{m['what']!r}: {m['ratio']}:1, needs {needed}:1")
    return measured, sorted(set(failures))


def test_every_status_badge_cell_and_tag_has_aa_contrast(site: Site, browser: Any) -> None:
    context, browsing = browse(browser, DESKTOP)
    page = browsing.page
    failures: list[str] = []
    seen: set[str] = set()
    try:
        sign_in(page, site.base, "security")
        for path in (
            "/",
            "/repository?name=acme/payments-api",
            "/products",
            f"/products/{site.product_id}",
            "/due?within=90",
            "/waivers?show=all",
        ):
            page.goto(site.base + path)
            measured, failed = contrast_failures(page)
            failures += [f"{path} {f}" for f in failed]
            seen.update(m["what"] for m in measured)
    finally:
        context.close()
    # Every status and due state was measured, so a missing seed cannot pass this test.
    for wanted in ("pass", "partial", "fail", "waived", "unknown", "not_applicable"):
        assert any(wanted in what for what in seen), wanted
    for wanted in ("overdue", "due_soon", "ok"):
        assert any(wanted in what for what in seen), wanted
    assert not failures, "\n".join(failures)


WRAPPED_DATES_JS = """() => [...document.querySelectorAll('td.date')].flatMap((td) => {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    const wrapped = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(node);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) wrapped.push(node.data.trim());
    }
    return wrapped;
})"""


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_a_date_in_a_table_is_never_split_over_two_lines(
    site: Site, browser: Any, width: int
) -> None:
    context, browsing = browse(browser, width)
    page = browsing.page
    wrapped: dict[str, list[str]] = {}
    counted = 0
    try:
        sign_in(page, site.base, "admin")
        for path in ("/due?within=90", "/risks", "/issues", "/products", "/waivers?show=all"):
            page.goto(site.base + path)
            counted += page.locator("td.date").count()
            found: list[str] = page.evaluate(WRAPPED_DATES_JS)
            if found:
                wrapped[path] = found
    finally:
        context.close()
    assert counted >= 8
    assert wrapped == {}


# --- status is never carried by colour alone -------------------------------------------------

STATUS_NAMES_JS = """() => [...document.querySelectorAll(
        'table.heatmap td[class^="s-"], table.strip td[class^="s-"]')]
    .filter((td) => td.className !== 's-none')
    .map((td) => {
        const img = td.querySelector('[role=img]');
        return [td.className, img ? img.getAttribute('aria-label') : td.textContent.trim()];
    })"""


def test_status_is_named_in_text_in_every_cell_and_the_charts_differ_by_more_than_colour(
    site: Site, browser: Any
) -> None:
    context, browsing = browse(browser, DESKTOP)
    page = browsing.page
    words = {
        "s-pass": "pass",
        "s-partial": "partial",
        "s-fail": "fail",
        "s-waived": "waived",
        "s-unknown": "unknown",
        "s-not_applicable": "not applicable",
    }
    try:
        sign_in(page, site.base, "security")
        named: list[list[str]] = page.evaluate(STATUS_NAMES_JS)
        assert {cls for cls, _ in named} == set(words)  # every status is on the seeded estate
        wrong = [(cls, name) for cls, name in named if name != words[cls]]
        assert wrong == []
        # The trend chart: one line per level, told apart by dash pattern as well as colour,
        # and a key naming each.
        dashes = page.eval_on_selector_all(
            "svg.trend polyline.line", "(ls) => ls.map((l) => getComputedStyle(l).strokeDasharray)"
        )
        assert len(dashes) == len(set(dashes)) >= 1
        legend = page.locator("[data-testid=trend-legend]").inner_text()
        assert all(level in legend for level in ("required", "recommended", "extra"))
    finally:
        context.close()


# --- keyboard: the skip link ------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_first_tab_reaches_a_skip_link_to_the_main_content(
    site: Site, browser: Any, signed_in: bool
) -> None:
    context, browsing = browse(browser, DESKTOP)
    page = browsing.page
    try:
        if signed_in:
            sign_in(page, site.base, "architect")
            page.goto(f"{site.base}/risks")
        else:
            page.goto(f"{site.base}/login")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement, box = e.getBoundingClientRect();
                return {text: e.textContent.trim(), href: e.getAttribute('href'),
                        visible: box.width > 1 && box.height > 1 && box.top >= 0}; }"""
        )
        assert focused == {"text": "Skip to main content", "href": "#content", "visible": True}
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "content"
    finally:
        context.close()


# --- forms: the error summary and the date input -----------------------------------------------


def _summary(page: Any) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        """() => { const s = document.querySelector('[data-testid=error-summary]');
            return s && {focused: document.activeElement === s, title: document.title,
                links: [...s.querySelectorAll('a')].map((a) => [a.getAttribute('href'),
                    a.textContent.trim()])}; }"""
    )
    return found


def test_a_failed_form_gets_an_error_summary_linking_to_its_fields(
    site: Site, browser: Any
) -> None:
    context, browsing = browse(browser, DESKTOP)
    page = browsing.page
    try:
        sign_in(page, site.base, "architect")
        page.goto(f"{site.base}/issues/new")
        _issue_form_with_errors(page)
        summary = _summary(page)
        assert summary is not None, "no error summary"
        assert summary["focused"] is True  # read out first, as GOV.UK's does
        assert summary["title"].startswith("Error: ")
        [(href, text)] = summary["links"]
        # The first field the register refused, named by its label (not "cvss_vector").
        assert href == "#issue-cvss_vector"
        assert text.startswith("CVSS vector: ")
        # The field says it too, and the link takes the keyboard there.
        field = page.locator("#issue-cvss_vector")
        assert field.get_attribute("aria-invalid") == "true"
        assert "issue-cvss_vector-error" in (field.get_attribute("aria-describedby") or "")
        page.locator(f"[data-testid=error-summary] a[href='{href}']").click()
        assert page.evaluate("() => document.activeElement.id") == "issue-cvss_vector"
        # What was typed is still there.
        assert page.input_value("#issue-environment") == "Debian 12"
    finally:
        context.close()


def _review(page: Any, site: Site, day: str, month: str, year: str) -> None:
    page.goto(f"{site.base}/risks/{site.risk_id}")
    form = page.locator("[data-testid=risk-review-form]")
    form.locator("[name=reviewed_on-day]").fill(day)
    form.locator("[name=reviewed_on-month]").fill(month)
    form.locator("[name=reviewed_on-year]").fill(year)
    follow(form.locator("[data-testid=risk-review-submit]"))


@pytest.mark.parametrize(
    ("day", "month", "year", "link", "words"),
    [
        ("31", "2", "2026", "#review-reviewed_on-day", "31 February 2026 is not a real date"),
        ("1", "2", "26", "#review-reviewed_on-year", "the year must have 4 numbers"),
        ("1", "", "2026", "#review-reviewed_on-month", "must include a month"),
        ("1", "13", "2026", "#review-reviewed_on-month", "the month must be from 1 to 12"),
    ],
)
def test_an_impossible_date_is_refused_and_the_summary_links_to_the_wrong_part(
    site: Site, browser: Any, day: str, month: str, year: str, link: str, words: str
) -> None:
    context, browsing = browse(browser, DESKTOP)
    page = browsing.page
    try:
        sign_in(page, site.base, "architect")
        _review(page, site, day, month, year)
        summary = _summary(page)
        assert summary is not None and summary["focused"] is True
        [(href, text)] = summary["links"]
        assert href == link
        assert text.startswith("Reviewed on: ") and words in text, text
        assert page.locator(link).get_attribute("aria-invalid") == "true"
        # What was typed comes back, to correct.
        assert page.input_value("#review-reviewed_on-year") == year
    finally:
        context.close()


def test_a_day_month_and_year_are_recorded_as_that_date(site: Site, browser: Any) -> None:
    context, browsing = browse(browser, DESKTOP)
    page = browsing.page
    reviewed = site.today()  # the seeded risk was recorded today: no earlier review fits
    try:
        sign_in(page, site.base, "architect")
        # Leading zeros, spaces and a month's name are all the same day.
        _review(page, site, f" {reviewed.day:02d} ", reviewed.strftime("%b"), str(reviewed.year))
        assert _summary(page) is None, page.locator("main").inner_text()[:300]
        assert page.locator("[data-testid=flash]").inner_text() == "Review recorded."
        facts = page.locator("[data-testid=risk-facts]").inner_text()
        assert f"last {reviewed.isoformat()}" in facts
    finally:
        context.close()


# --- the HTML report: no word broken in the middle ---------------------------------------------

BROKEN_WORDS_JS = """(selector) => {
    const broken = [];
    for (const cell of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const re = /[A-Za-z0-9]+/g;
            for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                if (tops.size > 1) broken.push(m[0]);
            }
        }
    }
    return broken;
}"""


@pytest.mark.parametrize("width", [DESKTOP, 800, PHONE])
def test_the_html_reports_control_column_never_breaks_a_word(
    site: Site, browser: Any, width: int
) -> None:
    report = site.reports[WEAK_REPO]
    estate = EstateReport(
        "acme",
        tuple(EstateRepository(name, r) for name, r in site.reports.items() if "/" in name),
        report.generated_at,
        report.tool_version,
    )
    pages = [
        (html_format.render(report, RenderOptions()), "main table tbody td:nth-child(2)"),
        (estate_html.render(estate, RenderOptions()), "table:not(.heatmap) tbody td:first-child"),
    ]
    context, browsing = browse(browser, width)
    page = browsing.page
    try:
        for html, control_column in pages:
            page.set_content(html)
            assert page.locator(control_column).count() > 10
            assert page.evaluate(BROKEN_WORDS_JS, control_column) == []
    finally:
        context.close()
