"""Products: the list, a product's page (threat model and ITHC status with due dates, records,
and for architects its issues and risks), and the forms that add and record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from secposture.register import issues as issue_api
from secposture.register import records, vocabulary
from secposture.register.database import Tx
from secposture.register.due_list import product_duties
from secposture.register.errors import NotFound, RegisterError
from secposture.register.models import Product
from secposture.register.products import add_product, list_products, update_product
from secposture.register.risks import RiskFilter, list_risks
from secposture.web import queries
from secposture.web.auth import SignedIn
from secposture.web.context import (
    CanEditProducts,
    CanRecordAssurance,
    CanRecordThreatModel,
    CanViewProducts,
    PostedForm,
    database,
)
from secposture.web.rendering import page

router = APIRouter()


def product_by_id(tx: Tx, product_id: int) -> Product:
    """A product by its id only (get_product would take a product named "12" for id 12)."""
    product = tx.session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product {product_id}")
    return product


def vocabularies() -> dict[str, Any]:
    return {
        "classifications": vocabulary.choices("classifications"),
        "risk_registers": vocabulary.choices("risk_registers"),
        "assurance_kinds": vocabulary.choices("assurance_kinds"),
        "schemes": vocabulary.choices("schemes"),
        "triggers": list(vocabulary.triggers().items()),
        "finding_severities": vocabulary.choices("finding_severities"),
        "treatments": vocabulary.choices("treatments"),
        "issue_severities": vocabulary.choices("issue_severities"),
        "issue_resolutions": vocabulary.choices("issue_resolutions"),
    }


@router.get("/products")
def products_page(request: Request, user: CanViewProducts) -> Response:
    return _products(request)


def _products(
    request: Request, error: str | RegisterError | None = None, values: dict[str, str] | None = None
) -> Response:
    def read(tx: Tx) -> dict[str, Any]:
        return {
            "products": [p.to_dict() for p in list_products(tx)],
            "duties": product_duties(tx),
        }

    data = database(request).read(read)
    return page(
        request,
        "products.html",
        {
            **data,
            **vocabularies(),
            "error": error,
            "values": values or {},
            "failed_form": "product-add" if error else None,
        },
        status_code=400 if error else 200,
    )


@router.post("/products")
def product_add(request: Request, user: CanEditProducts, form: PostedForm) -> Response:
    def add(tx: Tx) -> int:
        return add_product(
            tx,
            form.text("name"),
            owner=form.text("owner"),
            repositories=form.lines("repositories"),
            data_classification=form.text("data_classification"),
            risk_register_level=form.text("risk_register_level") or "product",
        ).id

    try:
        product_id = database(request).write(user.actor, add)
    except RegisterError as exc:
        return _products(request, exc, form.values())
    request.session["flash"] = "Product added."
    return RedirectResponse(f"/products/{product_id}", status_code=303)


@router.get("/products/{product_id}")
def product_page(request: Request, user: CanViewProducts, product_id: int) -> Response:
    return product_view(request, user, product_id)


def product_view(
    request: Request,
    user: SignedIn,
    product_id: int,
    *,
    error: str | RegisterError | None = None,
    values: dict[str, str] | None = None,
    failed_form: str | None = None,
) -> Response:
    see_registers = user.can("view_issues")

    def read(tx: Tx) -> dict[str, Any]:
        product = product_by_id(tx, product_id)
        name = product.name
        data: dict[str, Any] = {
            "product": product.to_dict(),
            "duties": product_duties(tx).get(product.id, {}),
            "threat_models": [
                r.to_dict() for r in records.list_records(tx, "threat_model", product=name)
            ],
            "assurances": [
                r.to_dict() for r in records.list_records(tx, "assurance", product=name)
            ],
            "changes": [
                r.to_dict() for r in records.list_records(tx, "major_change", product=name)
            ],
            "history": queries.history_rows(tx, "product", product.id),
            "issues": [],
            "risks": [],
            "alerts": [],
        }
        if see_registers:
            # Its repositories' Dependabot alerts past their patch-by date, as recorded scans
            # found them (register/alert_duties.py).
            from secposture.register.alert_duties import overdue_alerts

            repos = data["product"].get("repositories") or []
            data["alerts"] = [a.to_dict(tx.today) for a in overdue_alerts(tx, tx.today, repos)]
            found, _total = issue_api.list_issues(tx, status=issue_api.STATUSES, product=name)
            data["issues"] = [{**i.to_dict(), "title": i.title} for i in found]
            data["risks"] = [
                r.to_dict()
                for r in list_risks(
                    tx, RiskFilter(product=name), sort="score", descending=True
                ).items
            ]
        return data

    data = database(request).read(read)
    return page(
        request,
        "product.html",
        {
            **data,
            **vocabularies(),
            "today": None,
            "error": error,
            "values": values or {},
            "failed_form": failed_form,
        },
        status_code=400 if error else 200,
    )


def _record(
    request: Request,
    user: SignedIn,
    product_id: int,
    form_name: str,
    values: dict[str, str],
    write: Any,
    done: str,
) -> Response:
    try:
        database(request).write(user.actor, write)
    except RegisterError as exc:
        return product_view(
            request, user, product_id, error=exc, values=values, failed_form=form_name
        )
    request.session["flash"] = done
    return RedirectResponse(f"/products/{product_id}", status_code=303)


@router.post("/products/{product_id}")
def product_update(
    request: Request,
    user: CanEditProducts,
    product_id: int,
    form: PostedForm,
) -> Response:
    def change(tx: Tx) -> None:
        update_product(
            tx,
            product_by_id(tx, product_id).name,
            owner=form.optional("owner"),
            add_repositories=form.lines("add_repositories"),
            remove_repositories=form.lines("remove_repositories"),
            data_classification=form.optional("data_classification"),
            risk_register_level=form.optional("risk_register_level"),
            expected_version=form.number("version"),
        )

    return _record(
        request, user, product_id, "product-edit", form.values(), change, "Product updated."
    )


@router.post("/products/{product_id}/threat-models")
def threat_model_record(
    request: Request,
    user: CanRecordThreatModel,
    product_id: int,
    form: PostedForm,
) -> Response:
    def add(tx: Tx) -> None:
        records.record_threat_model(
            tx,
            product_by_id(tx, product_id).name,
            held_on=form.day("held_on") or tx.today,
            participants=form.lines("participants"),
            method=form.text("method"),
            scope=form.text("scope"),
            artefact_link=form.text("artefact_link"),
            summary=form.text("summary"),
        )

    return _record(
        request,
        user,
        product_id,
        "threat-model",
        form.values(),
        add,
        "Threat-model review recorded.",
    )


@router.post("/products/{product_id}/assurances")
def assurance_record(
    request: Request,
    user: CanRecordAssurance,
    product_id: int,
    form: PostedForm,
) -> Response:
    def add(tx: Tx) -> None:
        records.record_assurance(
            tx,
            product_by_id(tx, product_id).name,
            performed_on=form.day("performed_on") or tx.today,
            kind=form.text("kind"),
            supplier=form.text("supplier"),
            scheme=form.text("scheme"),
            scope=form.text("scope"),
            report_reference=form.text("report_reference"),
            findings={
                name: form.text(f"findings_{name}")
                for name in vocabulary.choices("finding_severities")
            },
        )

    return _record(
        request, user, product_id, "assurance", form.values(), add, "ITHC or pen test recorded."
    )


@router.post("/products/{product_id}/changes")
def change_record(
    request: Request,
    user: CanRecordAssurance,
    product_id: int,
    form: PostedForm,
) -> Response:
    def add(tx: Tx) -> None:
        records.record_major_change(
            tx,
            product_by_id(tx, product_id).name,
            changed_on=form.day("changed_on") or tx.today,
            trigger=form.text("trigger"),
            description=form.text("description"),
        )

    return _record(
        request, user, product_id, "change", form.values(), add, "Major change recorded."
    )
