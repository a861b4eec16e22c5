"""security-adrs: the ADR log, and ADRs that record security decisions (and why they count)."""

from __future__ import annotations

import pytest
from conftest import MakeRepo, result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from memory_repo import facts_of, scan_only

from secposture.facts import adrs
from secposture.model import Outcome, Status
from secposture.probes.adr_log_present import impl as log_probe
from secposture.probes.security_adr_recorded import impl as security_probe

CONTROL = "security-adrs"


def security_adrs(files: dict[str, str | bytes]) -> dict[str, list[str]]:
    log = facts_of(files).get(adrs.collect)
    return {a.path: [r.text for r in a.reasons] for a in log.adrs if a.security}


# --- end to end, every status ---------------------------------------------------------------------


def test_madr_log_with_a_security_decision_passes(make_repo: MakeRepo) -> None:
    r = result(scan_only(make_repo("adr-madr"), CONTROL), CONTROL)
    assert r.status is Status.PASS, r.summary
    log, *security = r.findings
    assert log.message == "ADR log in docs/decisions/ (3 ADRs)"  # not the template or README
    (oidc,) = security
    assert oidc.location is not None and str(oidc.location.path).endswith(
        "0003-sign-in-staff-with-oidc.md"
    )
    assert "front matter tags include 'security'" in oidc.message
    assert "title is about 'OpenID'" in oidc.message
    assert str(oidc.location).endswith(":5")  # the tags line


def test_log_without_security_decisions_fails(make_repo: MakeRepo) -> None:
    # An ADR log records no security decision: the control's practice is missing, not half done.
    r = result(scan_only(make_repo("adr-tools-no-security"), CONTROL), CONTROL)
    assert r.status is Status.FAIL, r.summary
    assert [f.outcome for f in r.findings] == [Outcome.POSITIVE, Outcome.NEGATIVE]
    assert r.findings[0].message == "ADR log in doc/architecture/decisions/ (3 ADRs)"
    assert (
        "none of the 3 ADRs in doc/architecture/decisions/ records a security decision"
        in r.findings[1].message
    )
    assert r.remediation is not None


def test_no_adr_log_fails(make_repo: MakeRepo) -> None:
    r = result(
        scan_only(make_repo(files={"README.md": "# app\n", "docs/guide.md": "# guide\n"}), CONTROL),
        CONTROL,
    )
    assert r.status is Status.FAIL
    assert [f.outcome for f in r.findings] == [Outcome.NEGATIVE, Outcome.NEGATIVE]
    assert (
        "no ADR log: looked for .adr-dir, docs/adr/, docs/adrs/, docs/decisions/"
        in r.findings[0].message
    )


def test_a_security_adr_added_to_the_adr_tools_log_passes(make_repo: MakeRepo) -> None:
    adr = (
        "# 4. Store secrets in AWS Secrets Manager\n\nDate: 2024-11-02\n\n## Status\n\nAccepted\n\n"
        "## Decision\n\nRotate database credentials every 30 days.\n"
    )
    root = make_repo(
        "adr-tools-no-security", {"doc/architecture/decisions/0004-store-secrets.md": adr}
    )
    assert result(scan_only(root, CONTROL), CONTROL).status is Status.PASS


# --- facts ---------------------------------------------------------------------------------------


def test_reasons_tags_line_and_decision_sections() -> None:
    files: dict[str, str | bytes] = {
        "docs/adr/0001-logging.md": "# Central logging\n\n* Status: accepted\n* **Tags**: Security, ops\n",
        "docs/adr/0002-queues.md": "# Use SQS\n\n## Decision Outcome\n\nQueues are encrypted with KMS.\n",
        "docs/adr/0003-cache.md": "# Cache\n\n## Decision\n\nUse Redis.\n\n## Consequences\n\nTLS later.\n",
        "docs/adr/0004-waf.rst": "Put a WAF in front\n==================\n\nDecision\n--------\n\nYes.\n",
        "docs/adr/0005-api.adoc": "= Versioned API\n\n== Decision\n\nUse OAuth2 scopes per version.\n",
    }
    assert security_adrs(files) == {
        "docs/adr/0001-logging.md": ["its Tags line includes 'security'"],
        "docs/adr/0002-queues.md": ["its Decision Outcome section decides on 'encrypted'"],
        "docs/adr/0004-waf.rst": ["its title is about 'WAF'"],
        "docs/adr/0005-api.adoc": ["its Decision section decides on 'OAuth2'"],
    }  # 0003: TLS is in Consequences, not in the Decision


def test_what_is_and_is_not_an_adr() -> None:
    files: dict[str, str | bytes] = {
        "docs/adr/README.md": "# Security decisions live here\n",
        "docs/adr/index.md": "# Authentication index\n",
        "docs/adr/template.md": "# Title\n## Decision\nsecurity\n",
        "docs/adr/notes.md": "# Passwords\n",  # no number, no MADR front matter
        "docs/adr/adr-012-tokens.md": "# Short-lived tokens\n",
        "docs/adr/use-vault.md": "---\nstatus: accepted\n---\n# Use Vault for secrets\n",
        "docs/adr/0007-diagram.png": b"\x89PNG\r\n",
        "services/billing/docs/adr/0001-pci-scope.md": "# Keep card data out of scope\n",
        "src/decisions/0001-model.md": "# not a root-level decisions folder\n",
    }
    log = facts_of(files).get(adrs.collect)
    assert sorted(a.path for a in log.adrs) == [
        "docs/adr/adr-012-tokens.md",
        "docs/adr/use-vault.md",
        "services/billing/docs/adr/0001-pci-scope.md",
    ]
    assert log.folders == ["docs/adr", "services/billing/docs/adr"]


def test_keywords_are_whole_words() -> None:
    assert adrs.first_keyword("Use authentication tokens") == "authentication"
    assert adrs.first_keyword("Tokenizer for search") is None
    assert adrs.first_keyword("An authoring tool") is None
    assert adrs.first_keyword("Role-based access   control") == "access   control"
    assert adrs.first_keyword("Sanitising HTML") == "Sanitising"


def test_file_name_counts_when_the_title_does_not() -> None:
    files: dict[str, str | bytes] = {"adr/0001-csrf-tokens.md": "No heading here.\n"}
    assert security_adrs(files) == {"adr/0001-csrf-tokens.md": ["its file name is about 'csrf'"]}


def test_folder_without_adrs_and_a_bad_adr_dir() -> None:
    files: dict[str, str | bytes] = {".adr-dir": "../../etc\n", "docs/adr/README.md": "# ADRs\n"}
    (finding,) = log_probe.run(facts_of(files))
    assert finding.outcome is Outcome.NEGATIVE
    assert finding.message.startswith("docs/adr/ holds no ADRs")
    assert ".adr-dir does not name a folder inside the repository" in finding.message


# --- hostile input -------------------------------------------------------------------------------

HOSTILE: list[str | bytes] = [
    b"\x00\x01binary",
    b"# \xff\xfe title\n",
    "",
    "---\n- a\n- list\n---\n# Title\n",
    "---\ntags: {security: yes}\nstatus: [1]\n---\n",
    "---\ntags: [security\n---\n# broken front matter\n",
    "---\nno end of front matter\n" * 300,
    "# " + "a" * 100_000 + "\n## Decision\n" + "x " * 50_000,
    "```\n# Decision\nsecurity\n",  # unterminated fence
    "Tags: " + "," * 10_000,
    "=" * 5000 + "\n" + "-" * 5000 + "\n",
    "\r\n".join(["## Decision"] * 2000),
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_adrs_never_raise(text: str | bytes) -> None:
    facts = facts_of({"docs/adr/0001-x.md": text, "docs/adr/0002-y.md": text})
    assert (
        log_probe.run(facts)[0].outcome is Outcome.POSITIVE
    )  # numbered files are ADRs, read or not
    assert security_probe.run(facts)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=400)
    | st.lists(
        st.sampled_from(
            [
                "---",
                "tags: [security]",
                "status: x",
                "# T",
                "## Decision",
                "Decision",
                "--------",
                "```",
                "Tags: sec",
                "secrets",
                "",
                "=== X",
            ]
        ),
        max_size=12,
    ).map("\n".join)
)
def test_adr_parsing_never_raises(text: str) -> None:
    facts = facts_of({"adr/0001-a.md": text, "adr/b.md": text, "adr/0002-c.rst": text})
    log = facts.get(adrs.collect)
    assert {a.path for a in log.adrs} >= {"adr/0001-a.md", "adr/0002-c.rst"}
    for adr in log.adrs:
        assert all(r.line is None or r.line >= 1 for r in adr.reasons)


# --- issue 11: ADR logs wherever they are kept, and decisions rather than words -------------------

NYGARD = "# {n}. {title}\n\nDate: 2024-06-19\n\n## Status\n\n{status}\n\n## Context\n\n{context}\n\n## Decision\n\n{decision}\n\n## Consequences\n\nNone.\n"


def nygard(
    title: str,
    decision: str,
    status: str = "Accepted",
    context: str = "We need to choose.",
    n: int = 1,
) -> str:
    return NYGARD.format(n=n, title=title, status=status, context=context, decision=decision)


def test_logs_are_found_whatever_the_folder_is_called() -> None:
    files: dict[str, str | bytes] = {
        # ministryofjustice/cloud-platform: a folder named for decisions, not a usual one
        "architecture-decision-record/006-Use-github-as-user-directory.md": nygard(
            "Use GitHub as our identity provider", "We will use GitHub for sign-in."
        ),
        # alphagov/signon: one file named ADR-NNN in docs/arch/, decided under "Solution"
        "docs/arch/adr-001-pass-anonymised-user-ids.md": (
            "# Decision Record: Pass anonymised user IDs to analytics\n\n## Context\n\nUsage.\n\n"
            "## Solution\n\nHash each user's UID with a secret known only to the applications.\n"
        ),
        # a design folder with numbered records that read as ADRs
        "docs/design_decisions/003-queue.md": nygard("Use SQS", "Use SQS queues."),
        # log4brains names its folder
        ".log4brains.yml": "project:\n  name: app\n  adrFolder: ./knowledge/records\n",
        "knowledge/records/20240101-use-postgres.md": "# Use Postgres\n\n## Decision\n\nUse it.\n",
        # a numbered document elsewhere that reads as an ADR (a status and a Decision section)
        "docs/architecture/0002-encrypt-backups.md": nygard(
            "Encrypt backups", "Backups are encrypted with a KMS key."
        ),
        # numbered documents that are no ADRs: a guide, a decisions folder's note
        "docs/guides/001-install.md": "# Install\n\nRun make.\n",
        "src/decisions/0001-model.md": "# The decision model\n\nClasses.\n",
    }
    log = facts_of(files).get(adrs.collect)
    assert [a.path for a in log.adrs] == [
        "architecture-decision-record/006-Use-github-as-user-directory.md",
        "docs/arch/adr-001-pass-anonymised-user-ids.md",
        "docs/architecture/0002-encrypt-backups.md",
        "docs/design_decisions/003-queue.md",
        "knowledge/records/20240101-use-postgres.md",
    ]
    assert log.folders == [
        "architecture-decision-record",
        "docs/arch",
        "docs/architecture",
        "docs/design_decisions",
        "knowledge/records",
    ]
    assert security_adrs(files) == {
        "architecture-decision-record/006-Use-github-as-user-directory.md": [
            "its title is about 'identity provider'"
        ],
        "docs/architecture/0002-encrypt-backups.md": [
            "its title is about 'Encrypt'",
            "its Decision section decides on 'encrypted'",
        ],
        "docs/arch/adr-001-pass-anonymised-user-ids.md": ["its title is about 'anonymised'"],
    }


def test_dependency_injection_and_passing_mentions_are_no_security_decisions() -> None:
    files: dict[str, str | bytes] = {
        # "injection" alone is no security word: dependency injection
        "docs/adr/0001-use-dependency-injection.md": nygard(
            "Use Dependency Injection", "Wire services with dependency injection (Koin)."
        ),
        # a password said in passing in the decision
        "docs/adr/0002-use-postgres.md": nygard(
            "Use PostgreSQL", "Use PostgreSQL 16 on RDS; the app reads its password from the env."
        ),
        # ministryofjustice/opg-modernising-lpa 0005 and 0006: access and a KMS key ARN in the
        # context, a naming decision
        "docs/adr/0003-namespacing-resources-in-aws.md": nygard(
            "Namespacing resources in AWS",
            "Use a consistent naming convention: resource, application, account, region.",
            context="Granting access to resources is easier when they are namespaced; IAM "
            "policies support wildcards; encryption keys are shared.",
        ),
        "docs/adr/0004-parameter-locations.md": nygard(
            "Parameter locations in SSM",
            "Use the management account for parameters used across services.",
            context="/modernising-lpa/reduced_fees_uploads_bucket_kms_key_arn/${env}",
        ),
        # a link is no decision about HTTPS
        "docs/adr/0005-docs-site.md": nygard(
            "Publish docs", "Publish to https://docs.example.org and [the wiki](https://w.example)."
        ),
        # two different security words in the decision do make one
        "docs/adr/0006-db-credentials.md": nygard(
            "Database access", "The password and the API token live in the parameter store."
        ),
    }
    assert security_adrs(files) == {
        "docs/adr/0006-db-credentials.md": [
            "its title is about 'access'",
            "its Decision section decides on 'password' and 'token'",
        ]
    }


def test_keywords_are_whole_words_and_phrases_where_a_word_has_other_senses() -> None:
    assert adrs.first_keyword("Use dependency injection") is None
    assert adrs.first_keyword("Prevent SQL injection with bound parameters") == "SQL injection"
    assert adrs.first_keyword("Single sign-on for staff") == "Single sign-on"
    assert adrs.first_keyword("Sessions in Redis") is None  # a weak word: not alone
    assert adrs.first_keyword("Tokenise the search index") is None


def test_proposed_drafts_and_sign_posts_are_not_decisions_superseded_ones_were() -> None:
    files: dict[str, str | bytes] = {
        "docs/adr/0001-enforce-mfa.md": nygard("Enforce MFA for staff", "Enforce MFA.", "Proposed"),
        "docs/adr/0002-use-oidc.md": nygard("Use OIDC", "Use OIDC.", "Superseded by ADR-0004"),
        "docs/adr/0003-use-saml.md": nygard("Use SAML", "Use SAML.", "Deprecated"),
        "docs/adr/0004-tls-only.md": nygard("TLS only", "Reject plain HTTP.", "Rejected"),
        # MADR front matter, and a metadata table (nhs-england-tools/repository-template)
        "docs/adr/0005-waf.md": "---\nstatus: draft\n---\n# Put a WAF in front\n",
        "docs/adr/ADR-006_Scan_for_secrets.md": (
            "# ADR-006: Scan for hard-coded secrets\n\n>| | |\n>| --- | --- |\n"
            ">| Status | `Proposed` |\n\n## Decision\n\nUse gitleaks for secret scanning.\n"
        ),
        "docs/adr/ADR-007_Scan_images.md": (
            "# ADR-007: Scan images for vulnerabilities\n\n>| | |\n>| --- | --- |\n"
            ">| Status | `RFC` |\n\n## Decision\n\nUse Trivy.\n"
        ),
        # ministryofjustice/cloud-platform 028: a title and a link to a private document
        "docs/adr/0008-repo-vulnerability-scanning.md": (
            "# 28 Repo vulnerability scanning\n\nDate: 2021-11-05\n\n"
            "**Link to this ADR: https://docs.google.com/document/d/1s8U/edit#**\n\n"
            "(Security-related ADRs are stored privately. It's useful to keep this sign-post "
            "here, so it is findable with all the other ADRs)\n"
        ),
    }
    log = facts_of(files).get(adrs.collect)
    decided = {a.path: a.not_a_decision for a in log.adrs}
    assert decided == {
        "docs/adr/0001-enforce-mfa.md": "its status is 'proposed': no decision in force",
        "docs/adr/0002-use-oidc.md": None,
        "docs/adr/0003-use-saml.md": None,
        "docs/adr/0004-tls-only.md": "its status is 'rejected': no decision in force",
        "docs/adr/0005-waf.md": "its status is 'draft': no decision in force",
        "docs/adr/0008-repo-vulnerability-scanning.md": (
            "it only points to a decision kept elsewhere (a title and a link)"
        ),
        "docs/adr/ADR-006_Scan_for_secrets.md": "its status is 'proposed': no decision in force",
        "docs/adr/ADR-007_Scan_images.md": None,  # RFC is no status that withholds a decision
    }
    assert sorted(security_adrs(files)) == [
        "docs/adr/0002-use-oidc.md",
        "docs/adr/0003-use-saml.md",
        "docs/adr/ADR-007_Scan_images.md",
    ]


def test_the_probe_names_security_adrs_that_are_no_decision() -> None:
    files: dict[str, str | bytes] = {
        "docs/adr/0001-enforce-mfa.md": nygard("Enforce MFA for staff", "Enforce MFA.", "Proposed"),
        "docs/adr/0002-use-react.md": nygard("Use React", "Use React."),
    }
    (negative,) = security_probe.run(facts_of(files))
    assert negative.outcome is Outcome.NEGATIVE
    assert negative.message.endswith(
        "(not counted, though on security: docs/adr/0001-enforce-mfa.md: its status is "
        "'proposed': no decision in force)"
    )


def test_templates_are_not_adrs() -> None:
    files: dict[str, str | bytes] = {
        "docs/adr/0000-template.md": "# {{ title }}\n\n## Decision\n\nsecurity\n",
        "docs/adr/0001-record-decisions.md": nygard("Record decisions", "Use ADRs."),
        "docs/adr/0002-jinja.md": "# {{ adr.title }}\n\n## Status\n\n{{ adr.status }}\n",
        "docs/adr/0003-madr.md": (
            '---\nstatus: "{proposed | rejected | accepted | deprecated | superseded by ADR-0123}"\n'
            "---\n# Authentication options\n"
        ),
        "docs/adr/0004-braced.md": "# {short title of solved problem and solution}\n",
        # nhs-england-tools/repository-template: the template, and a draft numbered XXX
        "docs/adr/ADR-nnn_Any_Decision_Record_Template.md": "# ADR-nnn: Any Decision Record\n",
        "docs/adr/ADR-XXX_Agree_CICD_pipeline_structure.md": (
            "---\nstatus: proposed\n---\n# ADR-XXX: Agree CI/CD pipeline structure\n"
        ),
        "docs/adr/templates/0001-nygard.md": "# {{title}}\n",
        # secposture's own fix template (string.Template), named like an ADR, in a templates folder
        "src/app/fix/templates/adr-0001.md": "# $number. Record security decisions\n\nTags: security\n",
        "docs/adr/0009-dollar.md": "# ${number}. Title\n",
    }
    log = facts_of(files).get(adrs.collect)
    assert [a.path for a in log.adrs] == ["docs/adr/0001-record-decisions.md"]


def test_tags_in_a_tags_section() -> None:
    # nhs-england-tools/repository-template ends each ADR with a Tags section
    files: dict[str, str | bytes] = {
        "docs/adr/ADR-002_Scan_repository.md": (
            "# ADR-002: Scan the repository\n\n## Decision\n\nUse gitleaks.\n\n## Tags\n\n"
            "`#maintainability, #security`\n"
        )
    }
    assert security_adrs(files) == {
        "docs/adr/ADR-002_Scan_repository.md": ["its Tags section includes 'security'"]
    }


def test_adrs_of_test_fixtures_and_examples_are_not_the_log() -> None:
    files: dict[str, str | bytes] = {
        "tests/fixtures/adr-app/docs/adr/0001-use-oidc.md": nygard("Use OIDC", "Use OIDC."),
        "examples/service/docs/decisions/0001-use-tls.md": nygard("Use TLS", "Use TLS."),
    }
    log = facts_of(files).get(adrs.collect)
    assert (log.adrs, log.folders) == ([], [])


def test_log4brains_and_adr_dir_outside_the_repository_are_refused() -> None:
    files: dict[str, str | bytes] = {
        ".log4brains.yml": "project:\n  adrFolder: ../../etc\n  packages:\n    - adrFolder: 7\n",
        "docs/adr/README.md": "# ADRs\n",
    }
    log = facts_of(files).get(adrs.collect)
    assert log.adrs == [] and log.folders == ["docs/adr"]
