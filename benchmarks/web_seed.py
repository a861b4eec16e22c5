"""Registers for the dashboard's screenshots and speed benchmark.

- `seed_showcase(database)`: a realistic small estate through the register's Python API: a
  dozen repositories scanned from the test fixtures (varied statuses, some GitHub settings
  observed, a waiver), six recorded scans each over ten weeks (a trend), products with threat
  models, ITHCs and a major change, security issues (one that cannot be fixed) and risks.
- `bulk_seed(database, ...)`: thousands of repositories' scan results and risks written straight
  into the register's real tables with SQLAlchemy Core (the Python API would take minutes).
"""

from __future__ import annotations

import hashlib
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from web_server import fixture_files, scan_files

from secposture import catalogue
from secposture.register import issues as issue_api
from secposture.register import records, vocabulary
from secposture.register.database import Database, Tx
from secposture.register.models import (
    Product,
    ProductRepository,
    Risk,
    ScanResult,
    ScanRun,
)
from secposture.register.products import add_product
from secposture.register.risks import RiskInput, add_risk
from secposture.register.waivers import add_waiver
from secposture.sources.interface import NO_SETTINGS, Observation, ReviewRequirement, ReviewRule
from secposture.sources.interface import Settings as RepoSettings

# ----------------------------------------------------------------------------------------------
# The showcase: what the screenshots show.


@dataclass(frozen=True)
class ShowcaseRepo:
    name: str
    fixtures: tuple[str, ...]  # later scans add the later ones: the repository improves
    dependabot: bool | None = None  # None: GitHub settings not observed (a checkout scan)
    approvals: int = 0
    late_files: tuple[tuple[str, str], ...] = ()  # added for the last two scans


PAYMENTS_DEPENDABOT = """version: 2
updates:
  - package-ecosystem: pip
    directory: /
    schedule: {interval: weekly}
  - package-ecosystem: github-actions
    directory: /
    schedule: {interval: weekly}
  - package-ecosystem: github-actions
    directory: /.github/actions/setup-env
    schedule: {interval: weekly}
"""
PR_TEMPLATE = """## Security
- [ ] I have considered the OWASP Top 10 and the security impact of this change
"""


SHOWCASE_REPOS = (
    ShowcaseRepo(
        "acme/payments-api",
        (
            "report-basic",
            "sa-python-complete",
            "workflows-hardened",
            "adr-madr",
            "codeowners-valid",
        ),
        dependabot=True,
        approvals=2,
        late_files=(
            (".github/dependabot.yml", PAYMENTS_DEPENDABOT),
            (".github/pull_request_template.md", PR_TEMPLATE),
        ),
    ),
    ShowcaseRepo(
        "acme/payments-web",
        ("deps-renovate", "templates-issue-forms", "workflows-hardened"),
        dependabot=True,
        approvals=1,
    ),
    ShowcaseRepo(
        "acme/case-api",
        ("sa-polyglot-partial", "threat-model-docs", "templates-markdown"),
        dependabot=False,
        approvals=1,
    ),
    ShowcaseRepo("acme/case-frontend", ("deps-monorepo", "codeowners-invalid"), dependabot=True),
    ShowcaseRepo("acme/case-infra", ("terraform-ecr-policy", "adr-tools-no-security")),
    ShowcaseRepo(
        "acme/www",
        ("report-basic", "templates-issue-forms", "secrets-clean-app"),
        dependabot=True,
        approvals=1,
    ),
    ShowcaseRepo("acme/www-cms", ("gitlab-rails-app",), dependabot=False),
    ShowcaseRepo(
        "acme/identity-service",
        ("sa-python-complete", "workflows-hardened", "report-basic", "threat-model-threagile"),
        dependabot=True,
        approvals=2,
    ),
    ShowcaseRepo("acme/data-pipeline", ("sa-go-bare", "deps-renovate"), dependabot=False),
    ShowcaseRepo("acme/reporting", ("policy-in-pyproject", "deps-monorepo"), dependabot=True),
    ShowcaseRepo("acme/legacy-batch", ("workflows-risky",)),
    ShowcaseRepo("acme/ops-scripts", ("sa-go-bare", "codeowners-valid")),
)

SHOWCASE_PRODUCTS = (
    ("Payments", "Payments team", "official-sensitive", ["acme/payments-api", "acme/payments-web"]),
    (
        "Case management",
        "Casework team",
        "official-sensitive",
        ["acme/case-api", "acme/case-frontend", "acme/case-infra"],
    ),
    ("Public website", "Digital team", "official", ["acme/www", "acme/www-cms"]),
    ("Identity", "Platform team", "official-sensitive", ["acme/identity-service"]),
    ("Data platform", "Data team", "official", ["acme/data-pipeline", "acme/reporting"]),
)
SCANS = 6  # recorded scans per repository, a fortnight apart


def _settings(repo: ShowcaseRepo) -> RepoSettings:
    if repo.dependabot is None:
        return NO_SETTINGS
    field = "security_and_analysis.dependabot_security_updates.status"
    rules = (
        (
            ReviewRule(
                kind="ruleset",
                name="main protection",
                api_field="rulesets[].rules[].pull_request.required_approving_review_count",
                required_approvals=repo.approvals,
                dismiss_stale_reviews=True,
                require_code_owner_review=repo.approvals > 1,
                enforce_admins=None,
            ),
        )
        if repo.approvals
        else ()
    )
    return RepoSettings(
        observed=True,
        reason="",
        dependabot_security_updates=Observation(field, repo.dependabot),
        secret_scanning=Observation("security_and_analysis.secret_scanning.status", True),
        secret_scanning_push_protection=Observation(
            "security_and_analysis.secret_scanning_push_protection.status", repo.approvals > 1
        ),
        review=ReviewRequirement(branch="main", rules=rules),
    )


def _registers(tx: Tx) -> None:
    today = tx.today
    for name, owner, classification, repositories in SHOWCASE_PRODUCTS:
        add_product(
            tx, name, owner=owner, repositories=repositories, data_classification=classification
        )
    tx.session.flush()
    records.record_threat_model(
        tx,
        "Payments",
        held_on=today - timedelta(days=40),
        participants=["Priya Shah", "Tom Reed", "Security team"],
        method="STRIDE",
        scope="Card payments API, web checkout and the refunds console",
        artefact_link="https://wiki.example.gov.uk/payments/threat-model",
        summary="Three new threats on refunds; SEC-101 to SEC-103 raised.",
    )
    records.record_threat_model(
        tx,
        "Identity",
        held_on=today - timedelta(days=250),
        participants=["Ana Costa", "Security team"],
        method="Attack trees",
        scope="Sign-in, MFA enrolment and account recovery",
        artefact_link="https://wiki.example.gov.uk/identity/threat-model",
        summary="Account recovery is the weakest path.",
    )
    records.record_threat_model(
        tx,
        "Case management",
        held_on=today - timedelta(days=170),
        participants=["Sam Okafor", "Lee Hart"],
        method="STRIDE",
        scope="Case API and document upload",
        artefact_link="https://wiki.example.gov.uk/cases/threat-model",
        summary="Upload scanning added to the backlog.",
    )
    records.record_assurance(
        tx,
        "Payments",
        performed_on=today - timedelta(days=120),
        kind="ithc",
        supplier="Example Assurance Ltd",
        scheme="CHECK",
        scope="External and authenticated web application test",
        report_reference="EAL-2025-044",
        findings={"critical": 0, "high": 1, "medium": 4, "low": 6, "info": 3},
    )
    records.record_assurance(
        tx,
        "Identity",
        performed_on=today - timedelta(days=300),
        kind="pentest",
        supplier="Red Team Co",
        scheme="CREST",
        scope="Sign-in and account recovery",
        report_reference="RTC-7781",
        findings={"critical": 0, "high": 0, "medium": 2, "low": 3, "info": 1},
    )
    records.record_major_change(
        tx,
        "Identity",
        changed_on=today - timedelta(days=30),
        trigger="authentication",
        description="Moved sign-in to the new identity provider with passkeys.",
    )
    add_waiver(
        tx,
        control="container-scanning",
        repository="acme/reporting",
        reason="Images are scanned by the platform's registry until the pipeline migrates.",
        approver="Head of Security",
        expires_on=today + timedelta(days=60),
    )


def _issues_and_risks(tx: Tx) -> None:
    today = tx.today
    issues = [
        (
            "Payments",
            "CVE-2024-3094",
            "Backdoored xz-utils in the build image",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            5,
        ),
        (
            "Case management",
            "",
            "Uploaded documents are served without a content type check",
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:H/I:L/A:N",
            12,
        ),
        (
            "Public website",
            "CVE-2023-44487",
            "HTTP/2 rapid reset on the CMS load balancer",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
            20,
        ),
        (
            "Identity",
            "",
            "Account recovery emails reveal whether an address is registered",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
            3,
        ),
    ]
    raised = []
    for product, cve, title, vector, days_ago in issues:
        issue = issue_api.raise_issue(
            tx,
            issue_api.IssueInput(
                product=product,
                reporter="Jo Bloggs",
                environment="Production (AWS eu-west-2), containers on ECS",
                description=f"{title}\nFound during routine dependency review.",
                business_context=f"{product} is used by the public every day.",
                data_at_risk="Names, addresses and case references",
                cvss_vector=vector,
                ticket_link="https://jira.example.gov.uk/browse/SEC-" + str(100 + days_ago),
                conversation_links=["https://chat.example.gov.uk/archives/C01/p" + str(days_ago)],
                cve_ids=cve,
                raised_on=today - timedelta(days=days_ago),
            ),
        )
        raised.append(issue)
    tx.session.flush()
    issue_api.cannot_fix(
        tx,
        raised[2].id,
        issue_api.CannotFix(
            reason="The CMS vendor has no fixed release; the load balancer is managed by them.",
            owner="Digital team lead",
            likelihood=2,
            impact=3,
        ),
    )
    # title, product (None: the organisation's register), likelihood x impact before and
    # after controls, treatment
    risks: list[tuple[str, str | None, str, str, str]] = [
        ("Refund approvals rely on one person", "Payments", "3x4", "2x3", "treat"),
        ("Legacy batch jobs run with admin credentials", None, "4x5", "3x4", "treat"),
        ("Supplier holds case documents abroad", "Case management", "2x4", "2x4", "transfer"),
        ("No tested restore of the case database", "Case management", "3x5", "2x5", "treat"),
        ("Shared admin account on the CMS", "Public website", "3x3", "3x3", "tolerate"),
        ("Phishing of staff with admin roles", None, "4x4", "3x3", "treat"),
        ("Unsupported Go version in the pipeline", "Data platform", "3x3", "1x3", "terminate"),
        ("Account recovery by email only", "Identity", "3x4", "2x4", "treat"),
    ]
    for i, (title, risk_product, before, after, treatment) in enumerate(risks):
        accepted = treatment == "tolerate"
        lb, ib = before.split("x")
        la, ia = after.split("x")
        add_risk(
            tx,
            RiskInput(
                title=title,
                register="product" if risk_product else "organisation",
                product=risk_product,
                cause="A gap found in review",
                event="Someone exploits it",
                effect="Loss of data or service",
                owner=["Priya Shah", "Sam Okafor", "Ana Costa", "Lee Hart"][i % 4],
                likelihood_before=lb,
                impact_before=ib,
                likelihood_after=la,
                impact_after=ia,
                treatment=treatment,
                actions=["Agree the fix in refinement"],
                next_review_on=today + timedelta(days=[-12, 5, 20, 45, 60, -3, 80, 14][i]),
                status="accepted" if accepted else "open",
                accepted_by="Senior Information Risk Owner" if accepted else None,
                accepted_on=today - timedelta(days=30) if accepted else None,
                expires_on=today + timedelta(days=150) if accepted else None,
            ),
        )


def seed_showcase(database: Database) -> None:
    """The realistic register the screenshots are taken from."""
    database.write("architect", _registers)
    database.write("security", _issues_and_risks)
    now = datetime.now(UTC).replace(microsecond=0)
    for number in range(SCANS):
        scanned_at = now - timedelta(days=14 * (SCANS - 1 - number), hours=2)
        for repo in SHOWCASE_REPOS:
            # Each scan adds the next fixture: the estate gets better over the ten weeks.
            upto = max(1, round(len(repo.fixtures) * (number + 1) / SCANS + 0.49))
            files: dict[str, str | bytes] = dict(fixture_files(*repo.fixtures[:upto]))
            if number >= SCANS - 2:
                files.update(repo.late_files)
            scan_files(
                database,
                repo.name,
                files,
                settings=_settings(repo),
                scanned_at=scanned_at,
                commit=hashlib.sha1(f"{repo.name}@{number}".encode()).hexdigest(),  # noqa: S324
            )


# ----------------------------------------------------------------------------------------------
# Bulk: the speed benchmark's estate.

CUSTOM_CONTROL = "licence-headers"  # a policy-file control: the 20th column
STATUS_WEIGHTS = {
    "pass": 50,
    "fail": 20,
    "partial": 10,
    "not_applicable": 10,
    "unknown": 8,
    "waived": 2,
}
OWNERS = [f"Owner {i:02d}" for i in range(40)]
BATCH = 5_000


def bulk_controls(count: int) -> list[str]:
    ids = list(catalogue.load("controls")["controls"])
    return (ids + [CUSTOM_CONTROL] + [f"custom-{i}" for i in range(count)])[:count]


def _batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(database: Database, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    with database.engine.begin() as conn:
        for batch in _batches(rows):
            conn.execute(table.insert(), batch)
            count += len(batch)
    return count


def _next_id(database: Database, model: Any) -> int:
    """The first free id of a table (bulk rows carry explicit ids, so results can name runs)."""
    return (database.read(lambda tx: tx.session.scalar(select(func.max(model.id)))) or 0) + 1


def _reset_sequences(database: Database, tables: Sequence[Table]) -> None:
    """Explicit ids were inserted: move PostgreSQL's id sequences past them."""
    if database.dialect != "postgresql":
        return
    with database.engine.begin() as conn:
        for table in tables:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                )
            )


def bulk_seed(
    database: Database,
    *,
    repositories: int = 2_000,
    controls: int = 20,
    risks: int = 10_000,
    scans_per_repository: int = 1,
    products: int = 100,
    seed: int = 6,
) -> dict[str, int]:
    """Write the estate straight into the register's tables; returns the row counts."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    today = database.read(lambda tx: tx.today)
    control_ids = bulk_controls(controls)
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    names = [f"estate-{i // 200:02d}/service-{i:04d}" for i in range(repositories)]
    product_table: Table = Product.__table__  # type: ignore[assignment]
    link_table: Table = ProductRepository.__table__  # type: ignore[assignment]
    run_table: Table = ScanRun.__table__  # type: ignore[assignment]
    result_table: Table = ScanResult.__table__  # type: ignore[assignment]
    risk_table: Table = Risk.__table__  # type: ignore[assignment]
    first_product = _next_id(database, Product)
    first_run = _next_id(database, ScanRun)
    first_risk = _next_id(database, Risk)

    def product_rows() -> Iterator[dict[str, Any]]:
        for i in range(products):
            yield {
                "id": first_product + i,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "name": f"Product {i:03d}",
                "name_key": f"product {i:03d}",
                "owner": OWNERS[i % len(OWNERS)],
                "data_classification": "official",
                "risk_register_level": "product",
                "status": "active",
            }

    def link_rows() -> Iterator[dict[str, Any]]:
        for i, name in enumerate(names):
            yield {"product_id": first_product + i % products, "repository": name}

    def run_rows() -> Iterator[dict[str, Any]]:
        for scan in range(scans_per_repository):
            moment = now - timedelta(days=7 * (scans_per_repository - 1 - scan), minutes=5)
            for i, name in enumerate(names):
                yield {
                    "id": first_run + scan * repositories + i,
                    "repository": name,
                    "commit": f"{rng.getrandbits(160):040x}",
                    "source": "github",
                    "scanned_at": moment + timedelta(seconds=i),
                    "tool_version": "0.1.0",
                }

    def result_rows() -> Iterator[dict[str, Any]]:
        for scan_id in range(first_run, first_run + scans_per_repository * repositories):
            for control in control_ids:
                status = rng.choices(statuses, weights)[0]
                yield {
                    "scan_id": scan_id,
                    "control": control,
                    "status": status,
                    "summary": f"{control}: {status.replace('_', ' ')}",
                    "evidence": [
                        {
                            "probe": f"{control}-probe",
                            "outcome": "true" if status == "pass" else "false",
                            "message": "what the probe saw, with the file and line",
                            "location": {"path": ".github/workflows/ci.yml", "line": 12},
                        }
                    ],
                }

    registers = vocabulary.choices("risk_registers")
    treatments = vocabulary.choices("treatments")

    def risk_rows() -> Iterator[dict[str, Any]]:
        for i in range(risks):
            lb, ib = rng.randint(1, 5), rng.randint(1, 5)
            la, ia = rng.randint(1, lb), rng.randint(1, ib)
            status = rng.choices(["open", "accepted", "closed"], [70, 15, 15])[0]
            register = rng.choice(registers)
            accepted = status == "accepted"
            yield {
                "id": first_risk + i,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "title": f"Risk {i:05d}: {rng.choice(['supplier', 'access', 'data', 'outage'])} "
                f"exposure in area {i % 97}",
                "register": register,
                "product_id": first_product + i % products if register == "product" else None,
                "cause": "A cause worth recording in a sentence or two.",
                "event": "What could happen because of it.",
                "effect": "What it would cost the organisation.",
                "owner": OWNERS[i % len(OWNERS)],
                "likelihood_before": lb,
                "impact_before": ib,
                "likelihood_after": la,
                "impact_after": ia,
                "score_before": lb * ib,
                "score_after": la * ia,
                "treatment": rng.choice(treatments),
                "actions": ["Agree the fix", "Review in three months"],
                "accepted_by": "SIRO" if accepted else None,
                "accepted_on": today - timedelta(days=30) if accepted else None,
                "expires_on": today + timedelta(days=rng.randint(1, 365)) if accepted else None,
                "next_review_on": today + timedelta(days=rng.randint(-60, 180)),
                "last_reviewed_on": None,
                "status": status,
                "closed_on": today - timedelta(days=5) if status == "closed" else None,
                "close_reason": "Fixed" if status == "closed" else None,
            }

    counts = {
        "products": _insert(database, product_table, product_rows()),
        "product repositories": _insert(database, link_table, link_rows()),
        "scan runs": _insert(database, run_table, run_rows()),
        "scan results": _insert(database, result_table, result_rows()),
        "risks": _insert(database, risk_table, risk_rows()),
    }
    _reset_sequences(database, [product_table, link_table, run_table, result_table, risk_table])
    if database.dialect == "postgresql":
        with database.engine.begin() as conn:
            conn.execute(text("ANALYZE"))  # as autovacuum would after a bulk load
    return counts
