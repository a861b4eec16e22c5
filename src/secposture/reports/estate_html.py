"""The estate as one self-contained HTML file: a heatmap of repositories x controls, compliance bars.

Built like the single-repository HTML report (html_format): the same Jinja2 environment (autoescape,
and `clean` on every value), inline CSS only, no scripts, and a Content-Security-Policy that allows
just that stylesheet by its hash. The compliance bars are CSS: each segment gets a width class
(`w0` to `w100`) from the stylesheet, because the policy forbids inline `style` attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from markupsafe import Markup

from secposture.model import ControlResult, EstateReport, EstateRepository, Status
from secposture.reports.common import truncate
from secposture.reports.estate import (
    COUNTED,
    Compliance,
    ControlColumn,
    columns_by_level,
    control_columns,
    control_compliance,
    failing_required,
    level_compliance,
    not_scanned,
    own_policies,
    repository_flags,
    results_by_id,
    short_name,
    usage_summary,
    why_not_scanned,
)
from secposture.reports.html_format import LABELS, content_security_policy, template_environment
from secposture.reports.interface import RenderOptions
from secposture.reports.own_policy import estate_note

SYMBOLS = {status: label.split(" ", 1)[0] for status, label in LABELS.items()}
MAX_TOOLTIP = 300  # characters of a summary in a cell's tooltip; the JSON report has it whole
# The bar's segments, in the order they are drawn (not_applicable is not part of the bar).
BAR_STATUSES = (Status.PASS, Status.PARTIAL, Status.FAIL, Status.WAIVED, Status.UNKNOWN)


@dataclass(frozen=True)
class Cell:
    status: Status | None  # None: the repository's policy did not enable the control
    symbol: str
    tooltip: str


@dataclass(frozen=True)
class Row:
    name: str
    link: str | None
    flags: list[str]
    cells: list[Cell]
    failing: list[str]
    error: str | None


@dataclass(frozen=True)
class Segment:
    status: Status
    count: int
    width: int  # percent of the bar


@dataclass(frozen=True)
class ComplianceRow:
    column: ControlColumn
    compliance: Compliance
    segments: list[Segment]


@cache
def _css() -> str:
    templates = resources.files("secposture.reports").joinpath("templates")
    sheets = [
        templates.joinpath(name).read_text("utf-8").strip() for name in ("report.css", "estate.css")
    ]
    widths = "".join(f".w{n}{{width:{n}%}}" for n in range(101))
    return "\n".join([*sheets, widths])


def safe_link(url: str | None) -> str | None:
    """The repository's web address if it is a plain https URL; anything else is not linked."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.netloc or any(ch.isspace() for ch in url):
        return None
    return url


def _cell(column: ControlColumn, result: ControlResult | None) -> Cell:
    if result is None:
        return Cell(None, "·", f"{column.id}: not evaluated (disabled by the repository's policy)")
    label = LABELS[result.status].split(" ", 1)[1]
    tooltip = f"{column.id}: {label}: {truncate(result.summary, MAX_TOOLTIP)}"
    return Cell(result.status, SYMBOLS[result.status], tooltip)


def _row(estate: EstateReport, repo: EstateRepository, columns: list[ControlColumn]) -> Row:
    results = results_by_id(repo)
    cells = [_cell(c, results.get(c.id)) for c in columns]
    error = why_not_scanned(repo) if repo.report is None else None
    return Row(
        short_name(estate, repo),
        safe_link(repo.url),
        repository_flags(repo),
        cells,
        failing_required(repo),
        error,
    )


def shares(counts: dict[str, int], statuses: tuple[Status, ...]) -> list[Segment]:
    """Whole percentages of `statuses` that add up to exactly 100 (largest remainder)."""
    total = sum(counts[s.value] for s in statuses)
    if not total:
        return []
    exact = [(s, counts[s.value] * 100 / total) for s in statuses]
    widths = {s: int(x) for s, x in exact}
    short = 100 - sum(widths.values())
    for s, _ in sorted(exact, key=lambda item: item[1] - int(item[1]), reverse=True)[:short]:
        widths[s] += 1
    return [Segment(s, counts[s.value], widths[s]) for s in statuses if counts[s.value]]


def _compliance_rows(estate: EstateReport, columns: list[ControlColumn]) -> list[ComplianceRow]:
    per_control = control_compliance(estate)
    return [
        ComplianceRow(c, per_control[c.id], shares(per_control[c.id].counts, BAR_STATUSES))
        for c in columns
    ]


def _headline(estate: EstateReport) -> tuple[str, str]:
    failing = sum(1 for repo in estate.repositories if failing_required(repo))
    scanned = len(estate.repositories) - len(not_scanned(estate))
    if failing:
        return f"{failing} of {scanned} scanned repositories fail required controls", "fail"
    return f"None of {scanned} scanned repositories fails a required control", "pass"


def render(estate: EstateReport, options: RenderOptions) -> str:
    css = _css()
    columns = control_columns(estate)
    headline, headline_class = _headline(estate)
    template = template_environment().get_template("estate.html.j2")
    return (
        template.render(
            estate=estate,
            css=Markup(css),  # noqa: S704  # nosec B704 - our own stylesheet from the package, not repository text
            csp=content_security_policy(css),
            headline=headline,
            headline_class=headline_class,
            columns=columns,
            groups=columns_by_level(columns),
            rows=[_row(estate, repo, columns) for repo in estate.repositories],
            compliance=_compliance_rows(estate, columns),
            levels=[
                (lv, c) for lv, c in level_compliance(estate).items() if sum(c.counts.values())
            ],
            missing=[(repo.name, why_not_scanned(repo)) for repo in not_scanned(estate)],
            own_policies=[
                (repo.name, estate_note(policy)) for repo, policy in own_policies(estate)
            ],
            labels=LABELS,
            symbols=SYMBOLS,
            statuses=list(Status),
            usage=usage_summary(estate),
            counted=COUNTED,
        )
        + "\n"
    )
