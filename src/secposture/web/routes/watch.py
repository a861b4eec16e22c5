"""The watcher's page: when each repository was last rescanned and why, its issue from the
repository-issue action, every write made to GitHub, and the queue."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from secposture.watch.views import watch_view
from secposture.web.context import CanViewEstate, database, state
from secposture.web.rendering import page

router = APIRouter()


@router.get("/watch")
def watch_page(request: Request, user: CanViewEstate, q: str = "") -> Response:
    search = q[:200]
    view = database(request).read(lambda tx: watch_view(tx, search=search))
    settings = request.app.state.watch.settings
    return page(
        request,
        "watch.html",
        {
            "view": view,
            "q": search,
            "webhooks_on": bool(settings.webhook_secret),
            "organisation": settings.organisation,
            "timezone": state(request).settings.timezone,
        },
    )
