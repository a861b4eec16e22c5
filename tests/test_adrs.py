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
    assert oidc.location is not None and oidc.location.path.endswith(
        "0003-sign-in-staff-with-oidc.md"
    )
    assert "front matter tags include 'security'" in oidc.message
    assert "title mentions 'OpenID'" in oidc.message
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
        "docs/adr/0002-queues.md": ["its Decision Outcome section mentions 'encrypted'"],
        "docs/adr/0004-waf.rst": ["its title mentions 'WAF'"],
        "docs/adr/0005-api.adoc": ["its Decision section mentions 'OAuth2'"],
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
    assert security_adrs(files) == {"adr/0001-csrf-tokens.md": ["its file name mentions 'csrf'"]}


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
