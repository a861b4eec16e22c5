"""A self-contained HTML report: one file, inline CSS, no scripts, no external requests.

Jinja2 autoescapes every value, and `finalize` first runs repository text through `clean`, so file
names cannot add markup or reorder text (bidi overrides). The Content-Security-Policy allows only the
one inline stylesheet, by its hash: even injected markup could not load or run anything.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from secposture.model import Level, Outcome, ScanReport, Status
from secposture.reports.common import (
    STAGES,
    analysis_matrix,
    by_level,
    failing_at,
    headline,
    status_counts,
)
from secposture.reports.common import clean as _clean
from secposture.reports.interface import RenderOptions
from secposture.reports.own_policy import policy_note
from secposture.reports.set_aside import set_aside_note

LABELS = {
    Status.PASS: "✔ pass",
    Status.PARTIAL: "◐ partial",
    Status.FAIL: "✘ fail",
    Status.NOT_APPLICABLE: "– not applicable",
    Status.UNKNOWN: "? unknown",
    Status.WAIVED: "≈ waived",
}
OUTCOME_LABELS = {
    Outcome.POSITIVE: "✔",
    Outcome.PARTIAL: "◐",
    Outcome.NEGATIVE: "✘",
    Outcome.NOT_APPLICABLE: "–",
    Outcome.UNKNOWN: "?",
}
STAGE_TITLES = {"pre-commit": "pre-commit", "ci": "CI", "ide": "IDE"}


def _finalize(value: Any) -> Any:
    """Every `{{ }}` value: repository strings cleaned; our own Markup (the CSS) left alone."""
    if isinstance(value, Markup | int | float):
        return value
    return _clean(str(value))  # objects too (a Location prints its path)


@cache
def template_environment() -> Environment:
    return Environment(
        loader=PackageLoader("secposture.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _css() -> str:
    text = resources.files("secposture.reports").joinpath("templates/report.css").read_text("utf-8")
    return text.strip()


def content_security_policy(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; "
        f"style-src 'sha256-{digest}'; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )


def render(report: ScanReport, options: RenderOptions) -> str:
    css = _css()
    counts = [(Status(s), n) for s, n in status_counts(report).items() if n]
    if failing_at(report, Level.REQUIRED):
        headline_class = "fail"
    elif report.failing(Level.EXTRA):
        headline_class = "partial"
    else:
        headline_class = "pass"
    template = template_environment().get_template("report.html.j2")
    return (
        template.render(
            report=report,
            css=Markup(css),  # noqa: S704  # nosec B704 - our own stylesheet from the package, not repository text
            csp=content_security_policy(css),
            headline=headline(report),
            headline_class=headline_class,
            counts=counts,
            labels=LABELS,
            outcome_labels=OUTCOME_LABELS,
            groups=by_level(report),
            matrix=analysis_matrix(report),
            stages=STAGES,
            stage_titles=STAGE_TITLES,
            policy_note=policy_note(report.repository_policy),
            set_aside_note=set_aside_note(report.set_aside),
        )
        + "\n"
    )
