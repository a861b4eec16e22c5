"""The risk register: risks with cause, event and effect, ratings before and after controls, a
treatment, actions, reviews and acceptance. Lists filter, sort and page in the database, so a
register of 10,000 risks lists as fast as one of ten."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from sqlalchemy import Select, func, or_, select

from secposture.register import validate, vocabulary
from secposture.register.database import Tx
from secposture.register.due import add_months
from secposture.register.errors import Duplicate, InvalidField, NotFound
from secposture.register.history import record
from secposture.register.models import Product, Risk, SecurityIssue
from secposture.register.products import active_product, get_product

OPEN, ACCEPTED, CLOSED = "open", "accepted", "closed"
STATUSES = (OPEN, ACCEPTED, CLOSED)
REVIEW_MONTHS = 3  # the default interval between reviews of a risk
MAX_PAGE = 1000

T = TypeVar("T")

# What lists sort by: the name people use -> the column.
SORTS = {
    "id": Risk.id,
    "title": Risk.title,
    "score": Risk.score_after,
    "inherent-score": Risk.score_before,
    "next-review": Risk.next_review_on,
    "expires": Risk.expires_on,
    "owner": Risk.owner,
    "status": Risk.status,
}


@dataclass
class RiskInput:
    """A new risk. Ratings after controls default to those before; the next review to
    REVIEW_MONTHS from today."""

    title: str
    register: str
    cause: str
    event: str
    effect: str
    owner: str
    likelihood_before: int | str
    impact_before: int | str
    treatment: str
    product: str | None = None
    likelihood_after: int | str | None = None
    impact_after: int | str | None = None
    actions: list[str] = field(default_factory=list)
    next_review_on: date | None = None
    issues: list[int] = field(default_factory=list)
    status: str = OPEN
    accepted_by: str | None = None
    accepted_on: date | None = None
    expires_on: date | None = None


@dataclass(frozen=True)
class RiskFilter:
    status: tuple[str, ...] = (OPEN, ACCEPTED)
    register: str | None = None
    product: str | None = None
    owner: str | None = None
    treatment: str | None = None
    min_score: int | None = None
    review_due_by: date | None = None  # next review on or before this day
    text: str | None = None  # in the title, cause, event or effect


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def add_risk(tx: Tx, data: RiskInput, *, note_links: bool = True) -> Risk:
    """A new risk. Each issue it is linked to gets a history row too (its list of risks
    changed), unless the caller records that issue's change itself (`note_links=False`)."""
    risk = build_risk(tx, data)
    duplicate = _same_title(tx, risk)
    if duplicate is not None:
        raise Duplicate(
            f"{duplicate.label} already has the title {risk.title!r} on the {risk.register} "
            "register"
        )
    record(tx, risk, "created", None)
    if note_links:
        note_issue_links(tx, risk, risk.issues)
    return risk


def note_issue_links(tx: Tx, risk: Risk, issues: Iterable[SecurityIssue]) -> None:
    """History rows for issues newly linked to `risk` (their `risks` field changed)."""
    for issue in issues:
        before = issue.to_dict()
        before["risks"] = [i for i in before["risks"] if i != risk.id]
        record(tx, issue, "risk_linked", before)


def build_risk(tx: Tx, data: RiskInput, products: dict[str, Product] | None = None) -> Risk:
    """A checked, unsaved Risk (CSV import checks every row before writing any). `products`
    caches product lookups by name across many calls."""
    # The lookups below must not flush: the new risk is linked to its issues before it is added.
    with tx.session.no_autoflush:
        return _build_risk(tx, data, {} if products is None else products)


def _build_risk(tx: Tx, data: RiskInput, products: dict[str, Product]) -> Risk:
    register = validate.choice("register", data.register, vocabulary.choices("risk_registers"))
    product = None
    if data.product and data.product.strip():
        key = data.product.strip().casefold()
        if key not in products:
            products[key] = active_product(tx, data.product)
        product = products[key]
    if register == "product" and product is None:
        raise InvalidField("product", "required for a risk on a product register")
    likelihood = validate.likelihood_or_impact("likelihood_before", data.likelihood_before)
    impact = validate.likelihood_or_impact("impact_before", data.impact_before)
    likelihood_after = _rating("likelihood_after", data.likelihood_after, likelihood)
    impact_after = _rating("impact_after", data.impact_after, impact)
    status = validate.choice("status", data.status, (OPEN, ACCEPTED))
    risk = Risk(
        title=validate.line("title", data.title),
        register=register,
        product=product,
        cause=validate.text("cause", data.cause),
        event=validate.text("event", data.event),
        effect=validate.text("effect", data.effect),
        owner=validate.line("owner", data.owner),
        likelihood_before=likelihood,
        impact_before=impact,
        likelihood_after=likelihood_after,
        impact_after=impact_after,
        score_before=likelihood * impact,
        score_after=likelihood_after * impact_after,
        treatment=validate.choice("treatment", data.treatment, vocabulary.choices("treatments")),
        actions=validate.names("actions", data.actions, required=False),
        next_review_on=data.next_review_on or add_months(tx.today, REVIEW_MONTHS),
        status=status,
    )
    if status == ACCEPTED:
        _set_acceptance(tx, risk, data.accepted_by, data.accepted_on, data.expires_on)
    elif data.accepted_by or data.accepted_on or data.expires_on:
        raise InvalidField(
            "status", "an accepted_by, accepted_on or expires_on needs status accepted"
        )
    risk.issues = [_issue(tx, issue_id) for issue_id in dict.fromkeys(data.issues)]
    return risk


def _rating(name: str, value: int | str | None, default: int) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    return validate.likelihood_or_impact(name, value)


def _issue(tx: Tx, issue_id: int) -> SecurityIssue:
    issue = tx.session.get(SecurityIssue, issue_id)
    if issue is None:
        raise InvalidField("issues", f"no issue {issue_id}")
    return issue


def _same_title(tx: Tx, risk: Risk) -> Risk | None:
    query = select(Risk).where(
        func.lower(Risk.title) == risk.title.lower(),
        Risk.register == risk.register,
        Risk.status != CLOSED,
    )
    product_id = risk.product.id if risk.product is not None else None
    query = query.where(
        Risk.product_id.is_(None) if product_id is None else Risk.product_id == product_id
    )
    with tx.session.no_autoflush:
        return tx.session.scalars(query.limit(1)).first()


def get_risk(tx: Tx, risk_id: int, *, for_update: bool = False) -> Risk:
    query = select(Risk).where(Risk.id == risk_id)
    if for_update:
        query = query.with_for_update(of=Risk)
    risk = tx.session.scalars(query).first()
    if risk is None:
        raise NotFound(f"no risk {risk_id} (secposture risk list shows them)")
    return risk


def list_risks(
    tx: Tx,
    filters: RiskFilter = RiskFilter(),
    *,
    sort: str = "id",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[Risk]:
    if sort not in SORTS:
        raise InvalidField("sort", f"{sort!r} is not one of {', '.join(SORTS)}")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidField("limit", f"a page is 1 to {MAX_PAGE} risks from offset 0 or more")
    query = _filtered(tx, filters)
    total = tx.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = SORTS[sort]
    # NULLs (no expiry) last either way, the same on SQLite and PostgreSQL.
    order = (column.desc() if descending else column.asc()).nulls_last()
    rows = tx.session.scalars(query.order_by(order, Risk.id).limit(limit).offset(offset))
    return Page(list(rows), total, limit, offset)


def iter_risks(tx: Tx, filters: RiskFilter = RiskFilter(), *, sort: str = "id") -> list[Risk]:
    """Every risk the filters match (exports), in pages so memory stays flat per query."""
    out: list[Risk] = []
    offset = 0
    while True:
        page = list_risks(tx, filters, sort=sort, limit=MAX_PAGE, offset=offset)
        out.extend(page.items)
        if not page.has_more:
            return out
        offset += MAX_PAGE


def _filtered(tx: Tx, filters: RiskFilter) -> Select[Risk]:
    query = select(Risk)
    statuses = [validate.choice("status", s, STATUSES) for s in filters.status]
    if statuses:
        query = query.where(Risk.status.in_(statuses))
    if filters.register:
        registers = vocabulary.choices("risk_registers")
        query = query.where(
            Risk.register == validate.choice("register", filters.register, registers)
        )
    if filters.product:
        query = query.where(Risk.product_id == get_product(tx, filters.product).id)
    if filters.owner:
        query = query.where(func.lower(Risk.owner) == filters.owner.strip().lower())
    if filters.treatment:
        treatments = vocabulary.choices("treatments")
        query = query.where(
            Risk.treatment == validate.choice("treatment", filters.treatment, treatments)
        )
    if filters.min_score is not None:
        query = query.where(Risk.score_after >= filters.min_score)
    if filters.review_due_by is not None:
        query = query.where(Risk.next_review_on <= filters.review_due_by)
    if filters.text:
        like = f"%{_escape_like(filters.text.strip().lower())}%"
        query = query.where(
            or_(
                *(
                    func.lower(column).like(like, escape="\\")
                    for column in (Risk.title, Risk.cause, Risk.event, Risk.effect)
                )
            )
        )
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def review_risk(
    tx: Tx,
    risk_id: int,
    *,
    reviewed_on: date | None = None,
    next_review_on: date | None = None,
    likelihood_after: int | str | None = None,
    impact_after: int | str | None = None,
    treatment: str | None = None,
    owner: str | None = None,
    add_actions: Sequence[str] = (),
    note: str | None = None,
    expected_version: int | None = None,
) -> Risk:
    """Record a review: new ratings, treatment, owner or actions as given, and what the review
    found (`note`: the last review's, so a review without one clears it; the history keeps every
    review's); the next review defaults to REVIEW_MONTHS after this one."""
    risk = _open_for_change(tx, risk_id, expected_version)
    before = risk.to_dict()
    day = validate.not_future("reviewed_on", reviewed_on or tx.today, tx.today)
    risk.last_reviewed_on = day
    risk.last_review_note = validate.text("note", note) if note and note.strip() else None
    following = next_review_on or add_months(day, REVIEW_MONTHS)
    risk.next_review_on = validate.after("next_review_on", following, day, "the review")
    risk.likelihood_after = _rating("likelihood_after", likelihood_after, risk.likelihood_after)
    risk.impact_after = _rating("impact_after", impact_after, risk.impact_after)
    risk.score_after = risk.likelihood_after * risk.impact_after
    if treatment is not None:
        risk.treatment = validate.choice("treatment", treatment, vocabulary.choices("treatments"))
    if owner is not None:
        risk.owner = validate.line("owner", owner)
    if add_actions:
        risk.actions = validate.names("actions", [*risk.actions, *add_actions], required=False)
    record(tx, risk, "reviewed", before)
    return risk


def add_action(tx: Tx, risk_id: int, action: str, *, expected_version: int | None = None) -> Risk:
    """Append one action to a risk's list (read, change, write: the case optimistic locking
    protects when two people add actions at once)."""
    risk = _open_for_change(tx, risk_id, expected_version)
    before = risk.to_dict()
    risk.actions = validate.names("actions", [*risk.actions, action], required=False)
    if risk.actions == before["actions"]:
        raise InvalidField("action", f"{risk.label} already has that action")
    record(tx, risk, "action_added", before)
    return risk


def accept_risk(
    tx: Tx,
    risk_id: int,
    *,
    accepted_by: str,
    expires_on: date,
    accepted_on: date | None = None,
    expected_version: int | None = None,
) -> Risk:
    """The risk owner (or board) accepts the residual risk until `expires_on`."""
    risk = _open_for_change(tx, risk_id, expected_version)
    before = risk.to_dict()
    _set_acceptance(tx, risk, accepted_by, accepted_on or tx.today, expires_on)
    risk.status = ACCEPTED
    record(tx, risk, "accepted", before)
    return risk


def _set_acceptance(
    tx: Tx, risk: Risk, by: str | None, on: date | None, expires_on: date | None
) -> None:
    risk.accepted_by = validate.line("accepted_by", by)
    day = validate.not_future("accepted_on", on or tx.today, tx.today)
    if expires_on is None:
        raise InvalidField("expires_on", "required: an acceptance has an expiry date")
    risk.accepted_on = day
    risk.expires_on = validate.after("expires_on", expires_on, day, "the acceptance")
    if expires_on == day:
        raise InvalidField("expires_on", f"{expires_on} is the day of the acceptance")


def close_risk(
    tx: Tx,
    risk_id: int,
    *,
    reason: str,
    closed_on: date | None = None,
    expected_version: int | None = None,
) -> Risk:
    """No longer a risk (treated, terminated, or the product retired). Kept, not deleted."""
    risk = _open_for_change(tx, risk_id, expected_version)
    before = risk.to_dict()
    day = validate.not_future("closed_on", closed_on or tx.today, tx.today)
    risk.closed_on = day
    risk.close_reason = validate.text("reason", reason)
    risk.status = CLOSED
    record(tx, risk, "closed", before)
    return risk


def _open_for_change(tx: Tx, risk_id: int, expected_version: int | None) -> Risk:
    risk = get_risk(tx, risk_id, for_update=True)
    validate.version(risk.label, risk.version, expected_version)
    if risk.status == CLOSED:
        raise InvalidField("status", f"{risk.label} is closed ({risk.closed_on})")
    return risk


def product_name(product: Product | None) -> str:
    return product.name if product is not None else "-"
