"""Products: the unit the process duties (threat models, ITHCs) and risks belong to."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from sqlalchemy import func, select

from secposture.register import validate, vocabulary
from secposture.register.database import Tx
from secposture.register.errors import Duplicate, InvalidField, NotFound
from secposture.register.history import record
from secposture.register.models import Product, ProductRepository

ACTIVE, RETIRED = "active", "retired"


def add_product(
    tx: Tx,
    name: str,
    *,
    owner: str,
    repositories: Iterable[str] = (),
    data_classification: str,
    risk_register_level: str = "product",
) -> Product:
    clean_name = validate.line("name", name)
    existing = _by_name(tx, clean_name)
    if existing is not None:
        raise Duplicate(f"product {existing.name!r} already exists (product {existing.id})")
    product = Product(
        name=clean_name,
        name_key=clean_name.casefold(),
        owner=validate.line("owner", owner),
        data_classification=validate.choice(
            "data_classification", data_classification, vocabulary.choices("classifications")
        ),
        risk_register_level=validate.choice(
            "risk_register_level", risk_register_level, vocabulary.choices("risk_registers")
        ),
        status=ACTIVE,
    )
    product.repository_links = [
        ProductRepository(repository=repo) for repo in _repositories(repositories, "repositories")
    ]
    record(tx, product, "created", None)
    return product


def update_product(
    tx: Tx,
    name: str,
    *,
    owner: str | None = None,
    add_repositories: Iterable[str] = (),
    remove_repositories: Iterable[str] = (),
    data_classification: str | None = None,
    risk_register_level: str | None = None,
    expected_version: int | None = None,
) -> Product:
    product = get_product(tx, name, for_update=True)
    validate.version(product.label, product.version, expected_version)
    before = product.to_dict()
    if owner is not None:
        product.owner = validate.line("owner", owner)
    if data_classification is not None:
        product.data_classification = validate.choice(
            "data_classification", data_classification, vocabulary.choices("classifications")
        )
    if risk_register_level is not None:
        product.risk_register_level = validate.choice(
            "risk_register_level", risk_register_level, vocabulary.choices("risk_registers")
        )
    removing = set(_repositories(remove_repositories, "remove_repositories"))
    unknown = removing - set(product.repositories)
    if unknown:
        raise InvalidField(
            "remove_repository",
            f"{', '.join(sorted(unknown))} is not a repository of {product.name}",
        )
    current = [r for r in product.repositories if r not in removing]
    wanted = list(dict.fromkeys([*current, *_repositories(add_repositories, "add_repositories")]))
    kept = [link for link in product.repository_links if link.repository in wanted]
    kept_names = {link.repository for link in kept}
    product.repository_links = kept + [
        ProductRepository(repository=repo) for repo in wanted if repo not in kept_names
    ]
    if product.to_dict() == before:
        raise InvalidField("product", "nothing to change: give a new value")
    record(tx, product, "updated", before)
    return product


def retire_product(tx: Tx, name: str) -> Product:
    """A product no longer run: kept with its records, left out of lists and due dates."""
    product = get_product(tx, name, for_update=True)
    if product.status == RETIRED:
        raise InvalidField("product", f"{product.name} is already retired")
    before = product.to_dict()
    product.status = RETIRED
    record(tx, product, "retired", before)
    return product


def get_product(tx: Tx, name: str | int, *, for_update: bool = False) -> Product:
    """A product by name (any case) or id; NotFound suggests close names."""
    key = str(name).strip()
    product = _by_name(tx, key, for_update=for_update)
    if product is None and key.isdigit():
        query = select(Product).where(Product.id == int(key))
        if for_update:
            query = query.with_for_update(of=Product)
        product = tx.session.scalars(query).first()
    if product is None:
        raise NotFound(_unknown_product(tx, key))
    return product


def active_product(tx: Tx, name: str | int, *, for_update: bool = False) -> Product:
    """A product that new records can be added to (not retired)."""
    product = get_product(tx, name, for_update=for_update)
    if product.status != ACTIVE:
        raise InvalidField("product", f"{product.name} is retired")
    return product


def list_products(
    tx: Tx,
    *,
    include_retired: bool = False,
    owner: str | None = None,
    repository: str | None = None,
) -> list[Product]:
    query = select(Product).order_by(Product.name_key)
    if not include_retired:
        query = query.where(Product.status == ACTIVE)
    if owner:
        query = query.where(func.lower(Product.owner) == owner.strip().lower())
    if repository:
        repo = validate.repository("repository", repository)
        query = query.where(
            Product.id.in_(
                select(ProductRepository.product_id).where(ProductRepository.repository == repo)
            )
        )
    return list(tx.session.scalars(query))


def products_for_repository(tx: Tx, repository: str) -> list[Product]:
    """The active products a repository ("owner/name", any case) belongs to."""
    return list_products(tx, repository=repository)


def _by_name(tx: Tx, name: str, *, for_update: bool = False) -> Product | None:
    query = select(Product).where(Product.name_key == name.casefold())
    if for_update:
        query = query.with_for_update(of=Product)
    return tx.session.scalars(query).first()


def _unknown_product(tx: Tx, name: str) -> str:
    names = list(tx.session.scalars(select(Product.name).where(Product.status == ACTIVE)))
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    shown = repr(name[:60])
    if close:
        return f"unknown product {shown}: did you mean {', '.join(close)}?"
    if not names:
        return f"unknown product {shown}: the register has no products yet (secposture product add)"
    return f"unknown product {shown} (secposture product list shows them)"


def _repositories(values: Iterable[str], field: str) -> list[str]:
    """OWNER/REPO names, lower case, once each; a bad one is refused as `field`'s (the option or
    form field it was given in: adding and removing are told apart)."""
    repos = [validate.repository(field, v) for v in values if v.strip()]
    return list(dict.fromkeys(repos))
