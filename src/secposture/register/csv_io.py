"""The risk register as CSV (and JSON) for spreadsheets and other registers, and back.

Import is all or nothing: every row is checked first, and any error (naming the line and column)
leaves the register untouched. Export neutralises spreadsheet formulas (a cell starting with
= + - @ gets a leading apostrophe, the usual defence against CSV injection); import removes that
apostrophe again, so an export imports unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select

from secposture.register import validate
from secposture.register.database import Tx
from secposture.register.errors import InvalidField, RegisterError
from secposture.register.history import record_many
from secposture.register.models import Product, Risk
from secposture.register.risks import RiskInput, build_risk, note_issue_links

COLUMNS = (
    "id",
    "title",
    "register",
    "product",
    "cause",
    "event",
    "effect",
    "owner",
    "likelihood_before",
    "impact_before",
    "score_before",
    "likelihood_after",
    "impact_after",
    "score_after",
    "treatment",
    "actions",
    "status",
    "accepted_by",
    "accepted_on",
    "expires_on",
    "next_review_on",
    "last_reviewed_on",
    "closed_on",
    "close_reason",
    "issues",
)
REQUIRED = (
    "title",
    "register",
    "cause",
    "event",
    "effect",
    "owner",
    "likelihood_before",
    "impact_before",
    "treatment",
)
MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
MAX_ERRORS = 20
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def risks_to_csv(risks: Iterable[Risk]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for risk in risks:
        row = risk.to_dict()
        row["issues"] = " ".join(str(i) for i in row["issues"])
        writer.writerow([_cell(row[column]) for column in COLUMNS])
    return out.getvalue()


def risks_to_json(risks: Iterable[Risk]) -> str:
    return json.dumps([risk.to_dict() for risk in risks], indent=2, ensure_ascii=False) + "\n"


def import_risks(tx: Tx, data: bytes, source: str) -> list[Risk]:
    """Add every risk of a CSV file (as `risks_to_csv` writes it, or a spreadsheet's with at
    least the REQUIRED columns). Errors name `source`, the line and the column."""
    rows = list(_rows(data, source))
    risks: list[Risk] = []
    errors: list[str] = []
    titles: dict[tuple[str, str, str], int] = {}
    existing_titles = _open_titles(tx)
    products: dict[str, Product] = {}
    for line_number, values in rows:
        try:
            risk = build_risk(tx, _risk_input(values), products)
        except InvalidField as exc:
            errors.append(f"{source} line {line_number}, column {exc.field}: {exc.detail}")
        except RegisterError as exc:
            errors.append(f"{source} line {line_number}: {exc}")
        else:
            key = (risk.title.lower(), risk.register, risk.product.name if risk.product else "")
            if key in titles:
                errors.append(
                    f"{source} line {line_number}: duplicate of line {titles[key]} "
                    f"(same title {risk.title!r} on the same register)"
                )
                continue
            titles[key] = line_number
            existing = existing_titles.get((risk.title.lower(), risk.register, _product_id(risk)))
            if existing is not None:
                errors.append(
                    f"{source} line {line_number}: risk {existing} already has the title "
                    f"{risk.title!r} on the {risk.register} register"
                )
            risks.append(risk)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        more = " (stopped at the first 20)" if len(errors) >= MAX_ERRORS else ""
        raise RegisterError(
            f"nothing imported: {len(errors)} error{'s' if len(errors) != 1 else ''}{more}: "
            + "; ".join(errors)
        )
    if not risks:
        raise RegisterError(f"{source}: no risks to import (only a header)")
    record_many(tx, list(risks), "imported")
    for risk in risks:
        note_issue_links(tx, risk, risk.issues)
    return risks


def _product_id(risk: Risk) -> int | None:
    return risk.product.id if risk.product is not None else None


def _open_titles(tx: Tx) -> dict[tuple[str, str, int | None], int]:
    """(title in lower case, register, product id) -> id of every risk not closed, in one query:
    a new risk may not repeat one (see risks.add_risk)."""
    query = select(Risk.title, Risk.register, Risk.product_id, Risk.id).where(
        Risk.status != "closed"
    )
    return {
        (title.lower(), register, product_id): risk_id
        for title, register, product_id, risk_id in tx.session.execute(query)
    }


def _rows(data: bytes, source: str) -> Iterable[tuple[int, dict[str, str]]]:
    """(line number, column -> value) for each data row, after checking the header."""
    if len(data) > MAX_BYTES:
        raise RegisterError(f"{source}: too large ({len(data)} bytes; at most {MAX_BYTES})")
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not part of a name
    except UnicodeDecodeError as exc:
        raise RegisterError(
            f"{source}: not UTF-8 text (byte {exc.start}); save it as CSV UTF-8"
        ) from None
    if "\x00" in text:
        raise RegisterError(f"{source}: contains NUL bytes: not a CSV file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise RegisterError(f"{source}: empty file; the first line names the columns")
        columns = _header(header, source)
        start = reader.line_num + 1
        for count, values in enumerate(reader, start=1):
            if count > MAX_ROWS:
                raise RegisterError(f"{source}: more than {MAX_ROWS} rows; split the file")
            if not any(v.strip() for v in values):
                start = reader.line_num + 1
                continue  # a blank line
            if len(values) != len(columns):
                raise RegisterError(
                    f"{source} line {start}: {len(values)} cells, but the header has "
                    f"{len(columns)} columns (a missing comma or quote?)"
                )
            yield start, {name: _uncell(v) for name, v in zip(columns, values, strict=True)}
            start = reader.line_num + 1
    except csv.Error as exc:
        raise RegisterError(f"{source} line {reader.line_num}: not valid CSV ({exc})") from None


def _header(header: list[str], source: str) -> list[str]:
    columns = [name.strip().lower().replace(" ", "_") for name in header]
    unknown = [name for name in columns if name not in COLUMNS]
    if unknown:
        raise RegisterError(
            f"{source} line 1: unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}"
        )
    repeated = [name for name in columns if columns.count(name) > 1]
    if repeated:
        raise RegisterError(f"{source} line 1: column {repeated[0]!r} appears twice")
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise RegisterError(f"{source} line 1: missing column(s) {', '.join(missing)}")
    return columns


def _uncell(value: str) -> str:
    """Undo export's formula guard: "'=x" was "=x"."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def _risk_input(values: dict[str, str]) -> RiskInput:
    def get(name: str) -> str | None:
        value = values.get(name)
        return value if value is not None and value.strip() else None

    return RiskInput(
        title=values["title"],
        register=values["register"],
        product=get("product"),
        cause=values["cause"],
        event=values["event"],
        effect=values["effect"],
        owner=values["owner"],
        likelihood_before=values["likelihood_before"],
        impact_before=values["impact_before"],
        likelihood_after=get("likelihood_after"),
        impact_after=get("impact_after"),
        treatment=values["treatment"],
        actions=[a for a in (get("actions") or "").splitlines() if a.strip()],
        next_review_on=_date("next_review_on", get("next_review_on")),
        issues=_issue_ids(get("issues")),
        status=get("status") or "open",
        accepted_by=get("accepted_by"),
        accepted_on=_date("accepted_on", get("accepted_on")),
        expires_on=_date("expires_on", get("expires_on")),
    )


def _date(field: str, value: str | None) -> date | None:
    return validate.parse_date(field, value) if value is not None else None


def _issue_ids(value: str | None) -> list[int]:
    ids = []
    for item in (value or "").replace(",", " ").split():
        if not item.isdigit():
            raise InvalidField("issues", f"{item[:20]!r} is not an issue number")
        ids.append(int(item))
    return ids
