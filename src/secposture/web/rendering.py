"""Pages: Jinja2 templates with autoescaping always on (every value was typed by someone or read
from a repository), and the estate heatmap built as one string (2,000 x 20 cells without a
template call per cell).

Templates never receive a password hash, a session token, the cookie-signing key or the OIDC
client secret: routes pass register records (`to_dict()` values or models whose hash-bearing
fields no template reads) and the signed-in user's id, name and role.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

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


def repository_url(name: str) -> str:
    return "/repository?" + urlencode({"name": name})


def _query(base: Mapping[str, Any], **changes: Any) -> str:
    """The current list's query string with some parameters changed (sort, page)."""
    values = {k: v for k, v in {**base, **changes}.items() if v not in (None, "", False)}
    return "?" + urlencode(values, doseq=True) if values else "?"


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
        query=_query,
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
    values = {
        "request_path": request.url.path,
        "user": user,
        "csrf_token": csrf_token(request.session),
        "flash": flash if isinstance(flash, str) else None,
        "error": None,
        "values": {},
        "failed_form": None,
        "oidc_name": None,
        **(context or {}),
    }
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code)


def heatmap(estate: Estate) -> Markup:
    """The repositories x controls table: one row per repository, a cell per control."""
    columns = estate.controls
    head = "".join(
        f'<th scope="col" class="control {escape(c.level)}"><abbr title="{escape(c.title)} '
        f'({escape(c.level)})">{escape(c.id)}</abbr></th>'
        for c in columns
    )
    cells_for = {
        status: f'<td class="s-{status}">{mark}</td>' for status, (mark, _) in STATUS_MARKS.items()
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
