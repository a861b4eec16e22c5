"""`POST /github/webhook`: GitHub App deliveries become rescan jobs (ADR 0019).

No work is done here: the delivery is authenticated, remembered and queued in one short write,
and the answer goes back well within GitHub's ten seconds; the worker (watch/worker.py) scans.

- No webhook secret configured ($SECPOSTURE_GITHUB_WEBHOOK_SECRET): 403 to every delivery.
- A missing or wrong X-Hub-Signature-256: 401, before the body is parsed or anything stored.
- A delivery id already seen (a replay): 200, nothing queued.
- A signed delivery without an id or event, or whose body is not a JSON object: 400.
- Bodies over the dashboard's limit (2 MiB; GitHub caps payloads at 25 MB, but the events
  watched are far smaller) are refused with 413 by the app's BodyLimit before they are read;
  the scheduled full rescan catches what such a delivery would have asked for.

This route carries no session and is exempt from the CSRF check (context.csrf_protect): its
caller is GitHub, not a browser, and the HMAC signature is what a cross-site form cannot forge.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from secposture.watch.interface import WatchSettings
from secposture.watch.webhook import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    BadDelivery,
    decide,
    delivery_id,
    event_name,
    parse_payload,
    signature_valid,
)
from secposture.web.context import database

router = APIRouter()
WEBHOOK_PATH = "/github/webhook"


@router.post(WEBHOOK_PATH)
async def github_webhook(request: Request) -> Response:
    from secposture.watch.worker import accept_delivery

    watch = request.app.state.watch
    settings: WatchSettings = watch.settings
    if not settings.webhook_secret:
        return _answer(403, "webhooks are not configured: no SECPOSTURE_GITHUB_WEBHOOK_SECRET")
    body = await request.body()
    if not signature_valid(settings.webhook_secret, body, request.headers.get(SIGNATURE_HEADER)):
        return _answer(401, "the delivery's X-Hub-Signature-256 is missing or wrong")
    try:
        delivery = delivery_id(request.headers.get(DELIVERY_HEADER))
        event = event_name(request.headers.get(EVENT_HEADER))
        # Parsing and the register's write run in a worker thread: the event loop stays free.
        decision = await run_in_threadpool(
            lambda: decide(event, parse_payload(body), delivery, settings.organisation)
        )
    except BadDelivery as exc:
        return _answer(400, str(exc))
    accepted = await run_in_threadpool(
        accept_delivery, database(request), settings, delivery, event, decision.rescans
    )
    if not accepted:
        return _answer(200, f"delivery {delivery} was already received: ignored")
    if not decision.rescans:
        return _answer(200, f"nothing to rescan ({decision.why_not})")
    if watch.watcher is not None:
        watch.watcher.wake()
    names = ", ".join(r.repository for r in decision.rescans[:5])
    more = f" and {len(decision.rescans) - 5} more" if len(decision.rescans) > 5 else ""
    return _answer(202, f"rescan queued: {names}{more}")


def _answer(status: int, text: str) -> Response:
    return PlainTextResponse(text, status_code=status)
