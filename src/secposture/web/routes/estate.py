"""The estate overview (heatmap, compliance by level, trend) and a repository's page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from secposture.register.database import Tx
from secposture.register.errors import InvalidField
from secposture.register.products import products_for_repository
from secposture.register.waivers import list_waivers
from secposture.watch.views import last_rescan
from secposture.web import charts, queries
from secposture.web.context import CanViewEstate, database, state
from secposture.web.rendering import heatmap, page

router = APIRouter()
TREND_DAYS = 90


@router.get("/")
def estate_page(
    request: Request,
    user: CanViewEstate,
    q: str = "",
    failing: str = "",
) -> Response:
    only_failing = failing in ("1", "on", "true")
    search = q[:200]

    def read(tx: Tx) -> dict[str, Any]:
        estate = queries.estate(tx, search=search, only_failing=only_failing)
        points = state(request).trend.points(tx, days=TREND_DAYS)
        return {"estate": estate, "points": points}

    data = database(request).read(read)
    estate = data["estate"]
    return page(
        request,
        "estate.html",
        {
            "estate": estate,
            "heatmap": heatmap(estate),
            "compliance_chart": charts.compliance_svg(estate.compliance),
            "trend_chart": charts.trend_svg(data["points"]),
            "points": data["points"],
            "q": search,
            "failing": only_failing,
            "trend_days": TREND_DAYS,
        },
    )


@router.get("/repository")
def repository_page(request: Request, user: CanViewEstate, name: str = "") -> Response:
    repository = name.strip()[:300]
    see_waivers = user.can("view_waivers")

    def read(tx: Tx) -> dict[str, Any] | None:
        scans = queries.repository_scans(tx, repository)
        if not scans:
            return None
        try:  # products and waivers name GitHub repositories (OWNER/REPO); others have none
            products = [p.to_dict() for p in products_for_repository(tx, repository)]
            waivers = (
                [w.to_dict() for w in list_waivers(tx, repository=repository)]
                if see_waivers
                else []
            )
        except InvalidField:
            products, waivers = [], []
        return {
            "scans": scans,
            "products": products,
            "waivers": waivers,
            "rescan": last_rescan(tx, repository),
        }

    data = database(request).read(read)
    if data is None:
        raise HTTPException(404, "No recorded scan of that repository.")
    latest = data["scans"][0]
    history = _status_history(data["scans"])
    return page(
        request,
        "repository.html",
        {
            "repository": repository,
            "latest": latest,
            "results": [
                {**r, "control_info": queries.control(r["control"])} for r in latest.results
            ],
            "scans": data["scans"],
            "history": history,
            "products": data["products"],
            "waivers": data["waivers"],
            "rescan": data["rescan"],
        },
    )


def _status_history(scans: list[queries.ScanView]) -> list[dict[str, Any]]:
    """Each control's status in the recent scans, oldest to newest, for a small strip."""
    ordered = list(reversed(scans))
    ids = list(dict.fromkeys(r["control"] for scan in ordered for r in scan.results))
    by_scan = [{r["control"]: r["status"] for r in scan.results} for scan in ordered]
    return [
        {"control": cid, "statuses": [statuses.get(cid) for statuses in by_scan]} for cid in ids
    ]
