"""The register's Python API, as the scan (threat-model, ithc, waivers, --record) and the web
dashboard use it: lookups, lists with filters and pages, due dates, recorded scans."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import MakeRepo, scan

from secposture.model import Status
from secposture.policy import Waiver as PolicyWaiver
from secposture.register.database import Database, Tx
from secposture.register.due import local_today
from secposture.register.due_list import due_items
from secposture.register.history import history_of
from secposture.register.issues import IssueInput, list_issues, raise_issue
from secposture.register.products import add_product, products_for_repository, retire_product
from secposture.register.records import (
    latest_assurance,
    latest_major_change,
    latest_threat_model,
    record_assurance,
    record_major_change,
    record_threat_model,
    retire_record,
)
from secposture.register.risks import Page, RiskFilter, RiskInput, add_risk, list_risks
from secposture.register.scans import latest_scans, record_scan, scan_history
from secposture.register.waivers import active_waivers, add_waiver, retire_waiver

TODAY = local_today()


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.fixture
def database(register_url: str) -> Database:
    db = Database.open(register_url)
    db.write(
        "setup",
        lambda tx: add_product(
            tx,
            "payments",
            owner="Jo",
            repositories=["acme/Pay-API", "acme/pay-web"],
            data_classification="official",
        ),
    )
    return db


def _review(tx: Tx, day: date, product: str = "payments") -> int:
    return record_threat_model(
        tx,
        product,
        held_on=day,
        participants=["Jo"],
        method="STRIDE",
        scope="all",
        artefact_link="https://wiki.example.org/tm",
        summary="ok",
    ).id


def _test(tx: Tx, day: date, kind: str = "ithc") -> int:
    return record_assurance(
        tx,
        "payments",
        performed_on=day,
        kind=kind,
        supplier="Example Ltd",
        scheme="CHECK",
        scope="all",
        report_reference="R-1",
        findings={"high": 2},
    ).id


def test_products_for_a_repository_ignore_case_and_retired_products(database: Database) -> None:
    database.write(
        "a",
        lambda tx: add_product(
            tx, "legacy", owner="Sam", repositories=["acme/pay-api"], data_classification="secret"
        ),
    )
    names = database.read(lambda tx: [p.name for p in products_for_repository(tx, "ACME/pay-api")])
    assert names == ["legacy", "payments"]
    database.write("a", lambda tx: retire_product(tx, "legacy"))
    assert database.read(
        lambda tx: [p.name for p in products_for_repository(tx, "acme/PAY-API")]
    ) == ["payments"]
    assert database.read(lambda tx: products_for_repository(tx, "acme/unknown")) == []


def test_latest_records_skip_retired_ones(database: Database) -> None:
    assert database.read(lambda tx: latest_threat_model(tx, "payments")) is None
    database.write("a", lambda tx: _review(tx, days_ago(200)))
    newest = database.write("a", lambda tx: _review(tx, days_ago(20)))
    database.write("a", lambda tx: _test(tx, days_ago(300)))
    database.write("a", lambda tx: _test(tx, days_ago(100), kind="pentest"))
    database.write(
        "a",
        lambda tx: record_major_change(
            tx, "payments", changed_on=days_ago(5), trigger="data", description="new data"
        ),
    )
    assert database.read(lambda tx: latest_threat_model(tx, "payments").held_on) == days_ago(20)  # type: ignore[union-attr]
    assert database.read(lambda tx: latest_assurance(tx, "payments").kind) == "pentest"  # type: ignore[union-attr]
    assert database.read(lambda tx: latest_major_change(tx, "payments").trigger) == "data"  # type: ignore[union-attr]
    database.write("a", lambda tx: retire_record(tx, "threat_model", newest))
    assert database.read(lambda tx: latest_threat_model(tx, "payments").held_on) == days_ago(200)  # type: ignore[union-attr]


def test_active_waivers_for_the_scan(database: Database) -> None:
    expires = TODAY + timedelta(days=30)
    database.write(
        "a",
        lambda tx: add_waiver(
            tx,
            control="container-scanning",
            repository="acme/pay-api",
            reason="no images",
            approver="TA",
            expires_on=expires,
        ),
    )
    product_waiver = database.write(
        "a",
        lambda tx: (
            add_waiver(
                tx,
                control="security-adrs",
                product="payments",
                reason="ADRs in the wiki",
                approver="TA",
                expires_on=expires,
            ).id
        ),
    )
    waivers = database.read(lambda tx: active_waivers(tx, "ACME/pay-api"))
    assert waivers == [
        PolicyWaiver("container-scanning", "no images", "TA", expires, "register waiver 1"),
        PolicyWaiver(
            "security-adrs",
            "ADRs in the wiki",
            "TA",
            expires,
            "register waiver 2 (product payments)",
        ),
    ]
    assert [w.control for w in database.read(lambda tx: active_waivers(tx, "acme/pay-web"))] == [
        "security-adrs"
    ]
    database.write("a", lambda tx: retire_waiver(tx, product_waiver))
    assert database.read(lambda tx: active_waivers(tx, "acme/pay-web")) == []


def test_a_recorded_scan_of_a_real_checkout(database: Database, make_repo: MakeRepo) -> None:
    report = scan(
        make_repo(files={"app.py": "print('hello')\n", "Dockerfile": "FROM python:3.12\n"})
    )
    failing = [r for r in report.results if r.status is Status.FAIL and r.findings]
    assert failing, "a bare checkout fails controls, with evidence to store"
    run = database.write("ci", lambda tx: record_scan(tx, report).to_dict())
    assert run["commit"] == report.target.commit and run["commit"]
    assert run["statuses"] == {r.id: r.status.value for r in report.results}
    later = database.write("ci", lambda tx: record_scan(tx, report).id)
    control = failing[0].id
    rows = database.read(
        lambda tx: [
            (r.id, res.status, res.evidence)
            for r, res in scan_history(tx, report.target.name, control=control)
        ]
    )
    assert [row[0] for row in rows] == [later, run["id"]]  # newest first
    assert rows[0][1] == "fail"
    assert rows[0][2] == [f.to_dict() for f in failing[0].findings]
    assert database.read(lambda tx: [r.id for r in latest_scans(tx)]) == [later]
    history = database.read(lambda tx: [h.to_dict() for h in history_of(tx, "scan", later)])
    assert history[0]["actor"] == "ci" and history[0]["after"]["repository"] == report.target.name


def _risks(tx: Tx, count: int) -> None:
    for i in range(count):
        add_risk(
            tx,
            RiskInput(
                title=f"Risk {i:03d}" + (" 100% _wild_" if i == 7 else ""),
                register="product" if i % 3 else "organisation",
                product="payments" if i % 3 else None,
                cause="c",
                event="e",
                effect="f",
                owner=f"owner {i % 4}",
                likelihood_before=1 + i % 5,
                impact_before=1 + (i // 5) % 5,
                treatment="treat",
                next_review_on=TODAY + timedelta(days=i),
            ),
        )


def test_risk_lists_filter_sort_and_page_in_the_database(database: Database) -> None:
    database.write("a", lambda tx: _risks(tx, 60))

    def page(**kwargs: object) -> Page[int]:
        filters = kwargs.pop("filters", RiskFilter())

        def ids(tx: Tx) -> Page[int]:
            found = list_risks(tx, filters, **kwargs)  # type: ignore[arg-type]
            return Page([r.id for r in found.items], found.total, found.limit, found.offset)

        return database.read(ids)

    first = page(limit=25)
    assert (first.items[:3], first.total, first.has_more) == ([1, 2, 3], 60, True)
    last = page(limit=25, offset=50)
    assert (last.items, last.has_more) == (list(range(51, 61)), False)
    organisation = page(filters=RiskFilter(register="organisation"), limit=100)
    assert organisation.total == 20
    owner = page(filters=RiskFilter(owner="OWNER 1", product="payments"), limit=100)
    assert owner.total == 10
    soon = page(filters=RiskFilter(review_due_by=TODAY + timedelta(days=4)), sort="next-review")
    assert soon.items == [1, 2, 3, 4, 5]
    # LIKE's wildcards in the search text are literal.
    assert page(filters=RiskFilter(text="100% _wild_")).items == [8]
    assert page(filters=RiskFilter(text="%")).items == [8]
    by_score = database.read(
        lambda tx: [
            r.score_after for r in list_risks(tx, sort="score", descending=True, limit=5).items
        ]
    )
    assert by_score == sorted(by_score, reverse=True)


def test_issue_lists_by_patch_date(database: Database) -> None:
    def issue(tx: Tx, n: int, vector: str) -> None:
        raise_issue(
            tx,
            IssueInput(
                product="payments",
                reporter="Jo",
                environment="prod",
                description=f"issue {n}",
                business_context="b",
                data_at_risk="d",
                cvss_vector=vector,
                ticket_link=f"https://jira.example.org/SEC-{n}",
                conversation_links=["https://chat.example.org/1"],
                raised_on=days_ago(n),
            ),
        )

    database.write("a", lambda tx: issue(tx, 1, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"))
    database.write(
        "a",
        lambda tx: issue(tx, 2, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
    )
    found = database.read(
        lambda tx: [(i.description, i.cvss_version, i.severity) for i in list_issues(tx)[0]]
    )
    assert found == [("issue 2", "4.0", "critical"), ("issue 1", "3.1", "medium")]


def test_due_items_across_the_register(database: Database) -> None:
    database.write("a", lambda tx: _review(tx, days_ago(10)))
    database.write("a", lambda tx: _test(tx, days_ago(360)))
    database.write(
        "a",
        lambda tx: add_waiver(
            tx,
            control="codeowners",
            repository="acme/pay-web",
            reason="r",
            approver="a",
            expires_on=TODAY + timedelta(days=3),
        ),
    )
    items = database.read(lambda tx: due_items(tx, within_days=10))
    assert [(i.kind, i.status) for i in items] == [("waiver", "due_soon"), ("ithc", "due_soon")]
    later = database.read(lambda tx: due_items(tx, today=TODAY + timedelta(days=20)))
    assert [(i.kind, i.status) for i in later] == [("waiver", "overdue"), ("ithc", "overdue")]
    only = database.read(lambda tx: due_items(tx, today=TODAY + timedelta(days=20), kinds=["ithc"]))
    assert [i.kind for i in only] == ["ithc"]


def test_what_the_scan_reads_about_a_repository(database: Database) -> None:
    from secposture.register.scan_context import repository_records

    empty = database.read(lambda tx: repository_records(tx, "acme/other"))
    assert (empty.products, empty.waivers) == ((), ())
    database.write("a", lambda tx: _review(tx, days_ago(40)))
    database.write("a", lambda tx: _test(tx, days_ago(90)))
    database.write(
        "a",
        lambda tx: add_waiver(
            tx,
            control="codeowners",
            product="payments",
            reason="r",
            approver="a",
            expires_on=TODAY + timedelta(days=3),
        ),
    )
    records = database.read(lambda tx: repository_records(tx, "ACME/pay-web"))
    (product,) = records.products
    assert product.product == "payments"
    assert product.threat_model is not None and product.threat_model.on == days_ago(40)
    assert product.threat_model.record == "threat-model review 1"
    assert product.assurance is not None and product.assurance.detail == "ithc by Example Ltd"
    assert product.major_change is None
    assert [w.control for w in records.waivers] == ["codeowners"]
