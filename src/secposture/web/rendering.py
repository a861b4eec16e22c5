"""Pages: Jinja2 templates with autoescaping always on (every value was typed by someone or read
from a repository), and the estate heatmap built as one string (2,000 x 20 cells without a
template call per cell).

Form errors follow GOV.UK's pattern: an error summary at the top of the page (its title starts
with "Error: "), each error linking to its field, and the same words beside the field.

Templates never receive a password hash, a session token, the cookie-signing key or the OIDC
client secret: routes pass register records (`to_dict()` values or models whose hash-bearing
fields no template reads) and the signed-in user's id, name and role.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from secposture.register.errors import InvalidField, RegisterError
from secposture.register.fields import form_message
from secposture.web.forms import DateFieldError
from secposture.web.queries import Estate
from secposture.web.security import csrf_token

STATUS_MARKS = {
    "pass": ("✓", "pass"),
    "partial": ("◐", "partial"),
    "fail": ("✗", "fail"),
    "not_applicable": ("–", "not applicable"),
    "unknown": ("?", "unknown"),
    "waived": ("W", "waived"),
}


@dataclass(frozen=True)
class ShownError:
    """An error as the page shows it: the whole sentence, and for a field's error the field's
    name, the sentence without it, and which part of a date was wrong."""

    message: str
    field: str | None = None
    detail: str = ""
    part: str | None = None


def shown_error(error: str | RegisterError | None) -> ShownError | None:
    if error is None or error == "":
        return None
    if isinstance(error, InvalidField):
        part = error.part if isinstance(error, DateFieldError) else None
        # Named as a person knows the field ("The date of the test"), never `performed_on`.
        return ShownError(form_message(error), error.field, error.detail, part)
    return ShownError(str(error), detail=str(error))


_TAGS = re.compile(r"<[^>]+>")


def _label_of(body: str, field_id: str) -> str | None:
    """The text of the field's label (or a date's legend), which the macros give the id
    FIELD-label, without its "(required)"."""
    found = re.search(
        rf'id="{re.escape(field_id)}-label"[^>]*>(.*?)</(?:label|legend)>', body, re.S
    )
    if found is None:
        return None
    text = html.unescape(_TAGS.sub("", found.group(1))).replace("(required)", "")
    return " ".join(text.split())


def error_summary(body: str, form: str | None, error: ShownError | None) -> Markup:
    """GOV.UK's error summary for the page's content `body`: the error links to the field it
    is about (the part of a date that is wrong, or its day) when that field is on the page."""
    if error is None:
        return Markup("")
    target = label = None
    if form and error.field:
        field_id = f"{form}-{error.field}"
        candidates = [f"{field_id}-{error.part}"] if error.part else []
        for candidate in [*candidates, field_id, f"{field_id}-day"]:
            if f'id="{candidate}"' in body:
                target, label = candidate, _label_of(body, field_id)
                break
    if target is not None:
        text = f"{label}: {error.detail}" if label else error.message
        item = f'<a href="#{escape(target)}" data-testid="error">{escape(text)}</a>'
    else:
        item = f'<span data-testid="error">{escape(error.message)}</span>'
    # Every value is escaped above; the rest is fixed markup.
    return Markup(  # noqa: S704  # nosec B704
        '<div class="error-summary" data-testid="error-summary" data-error-summary '
        'tabindex="-1" aria-labelledby="error-summary-title">'
        '<h2 id="error-summary-title">There is a problem</h2>'
        f"<ul><li>{item}</li></ul></div>"
    )


def repository_url(name: str) -> str:
    return "/repository?" + urlencode({"name": name})


def _query(base: Mapping[str, Any], **changes: Any) -> str:
    """The current list's query string with some parameters changed (sort, page)."""
    values = {k: v for k, v in {**base, **changes}.items() if v not in (None, "", False)}
    return "?" + urlencode(values, doseq=True) if values else "?"


def status_mark(status: str) -> Markup:
    """A status's mark (✓, ✗, ...) as an image whose text alternative is the status's name."""
    mark, name = STATUS_MARKS[status]
    return Markup(f'<span role="img" aria-label="{name}">{mark}</span>')  # noqa: S704  # nosec B704


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("secposture.web", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        repository_url=repository_url,
        status_marks=STATUS_MARKS,
        status_mark=status_mark,
        query=_query,
        error_summary=error_summary,
    )
    env.filters["urlpart"] = lambda value: quote(str(value), safe="")
    env.filters["label"] = lambda value: str(value).replace("_", " ").replace("-", " ")
    return env


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    flash = request.session.pop("flash", None) if "flash" in request.session else None
    shown = shown_error((context or {}).get("error"))
    values = {
        "request_path": request.url.path,
        "user": user,
        "csrf_token": csrf_token(request.session),
        "flash": flash if isinstance(flash, str) else None,
        "values": {},
        "failed_form": None,
        "oidc_name": None,
        **(context or {}),
        "error": shown,
        "error_field": shown.field if shown else None,
        "error_detail": shown.detail if shown else "",
        "error_part": shown.part if shown else None,
    }
    rendered = environment().get_template(template).render(values)
    return HTMLResponse(rendered, status_code=status_code)


def heatmap(estate: Estate) -> Markup:
    """The repositories x controls table: one row per repository, a cell per control."""
    columns = estate.controls
    head = "".join(
        f'<th scope="col" class="control {escape(c.level)}"><abbr title="{escape(c.title)} '
        f'({escape(c.level)})">{escape(c.id)}</abbr></th>'
        for c in columns
    )
    # The mark is an image with the status's name as its text: never colour alone.
    cells_for = {
        status: f'<td class="s-{status}">{status_mark(status)}</td>' for status in STATUS_MARKS
    }
    missing = '<td class="s-none"></td>'
    body = []
    for row in estate.rows:
        name = escape(row.repository)
        link = escape(repository_url(row.repository))
        statuses = row.statuses
        cells = "".join(
            cells_for.get(statuses.get(c.id, ""))
            or (
                missing
                if c.id not in statuses
                else f'<td class="s-other">{escape(statuses[c.id])}</td>'
            )
            for c in columns
        )
        body.append(f'<tr><th scope="row"><a href="{link}">{name}</a></th>{cells}</tr>')
    # Repository names and control ids are escaped above; the rest is fixed markup.
    return Markup(  # noqa: S704  # nosec B704
        '<table class="heatmap" id="estate-heatmap" data-testid="estate-heatmap">'
        f'<thead><tr><th scope="col">Repository</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
