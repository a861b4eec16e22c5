"""ticket-security and pr-template-security: issue and pull request templates asking about security."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, MakeRepo, result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from memory_repo import facts_of, scan_only

from secposture.facts import templates
from secposture.facts.parsing import parse_yaml
from secposture.model import Outcome, Status
from secposture.probes.pr_template_security_checklist import impl as checklist_probe
from secposture.probes.ticket_template_asks_security import impl as ticket_probe

TICKET = "ticket-security"
PR = "pr-template-security"
BOTH = (TICKET, PR)
OWASP_PR = "## Checks\n- [ ] I have considered the OWASP Top 10 risks this change touches\n"


# --- end to end, every status ---------------------------------------------------------------------


def test_issue_form_asking_about_owasp_top_10_passes(make_repo: MakeRepo) -> None:
    report = scan_only(make_repo("templates-issue-forms"), *BOTH)
    ticket = result(report, TICKET)
    assert ticket.status is Status.PASS, ticket.summary
    (f,) = ticket.findings
    assert str(f.location) == ".github/ISSUE_TEMPLATE/feature_request.yml:21"
    assert "refers to the OWASP Top 10" in f.message
    pr = result(report, PR)
    assert pr.status is Status.PASS
    assert str(pr.findings[1].location) == ".github/pull_request_template.md:9"


def test_templates_without_owasp_are_partial_and_without_security_fail(
    make_repo: MakeRepo,
) -> None:
    report = scan_only(make_repo("templates-markdown"), *BOTH)
    ticket = result(report, TICKET)
    assert ticket.status is Status.PARTIAL
    assert str(ticket.findings[0].location) == ".github/ISSUE_TEMPLATE/feature_request.md:16"
    assert "does not refer to the OWASP Top 10" in ticket.findings[0].message
    pr = result(report, PR)
    assert pr.status is Status.FAIL  # a template, but no security check in it: none at all
    assert [f.outcome for f in pr.findings] == [Outcome.POSITIVE, Outcome.NEGATIVE]
    assert "docs/pull_request_template.md" in pr.findings[1].message


# Shaped like real templates: a community-channel line whose name holds "Secret", and a form's
# privacy disclaimer about what to leave out of the ticket. Neither asks about the change.
CHANNEL_BUG = """---
name: Bug report
about: Create a report to help us improve
---
**Describe the bug**
A clear and concise description of what the bug is.

Check out the Secret Scanning Discord Server for live discussions: https://discord.gg/example
"""
DISCLAIMER_FORM = """name: Support request
description: Ask a question about the template
body:
  - type: textarea
    attributes:
      label: Describe the problem
  - type: checkboxes
    attributes:
      label: Sensitive Information Declaration
      description: To protect your privacy, we kindly ask you to NOT including personal data (PII) or any sensitive information in this issue.
      options:
        - label: I confirm that neither PII nor sensitive data are included in this form
          required: true
"""


def test_disclaimers_and_channel_invitations_do_not_ask_about_security(make_repo: MakeRepo) -> None:
    root = make_repo(
        files={
            ".github/ISSUE_TEMPLATE/bug_report.md": CHANNEL_BUG,
            ".github/ISSUE_TEMPLATE/support.yaml": DISCLAIMER_FORM,
            ".github/pull_request_template.md": "## Checklist\n"
            "- [ ] Tests added\n"
            "- [ ] I confirm that neither PII nor sensitive data are included in this PR\n",
        }
    )
    report = scan_only(root, *BOTH)
    ticket = result(report, TICKET)
    assert ticket.status is Status.FAIL, ticket.summary
    assert "asks about security" in ticket.findings[0].message  # "none ... asks about security"
    # In a pull request checklist the same confirmation is a check of the change itself.
    pr = result(report, PR)
    assert pr.status is Status.PASS, pr.summary
    assert str(pr.findings[1].location) == ".github/pull_request_template.md:3"


def test_a_real_question_beside_a_disclaimer_still_counts(make_repo: MakeRepo) -> None:
    form = DISCLAIMER_FORM + (
        "  - type: textarea\n    attributes:\n"
        "      label: Which security risks (OWASP Top 10) does this change touch?\n"
    )
    report = scan_only(make_repo(files={".github/ISSUE_TEMPLATE/feature.yaml": form}), TICKET)
    ticket = result(report, TICKET)
    assert ticket.status is Status.PASS, ticket.summary
    assert str(ticket.findings[0].location) == ".github/ISSUE_TEMPLATE/feature.yaml:16"


def test_issue_templates_that_only_redirect_vulnerability_reports_fail(make_repo: MakeRepo) -> None:
    bug = ".github/ISSUE_TEMPLATE/bug_report.md"
    root = make_repo(files={bug: (FIXTURES / "templates-markdown" / bug).read_text("utf-8")})
    report = scan_only(root, *BOTH)
    ticket = result(report, TICKET)
    assert ticket.status is Status.FAIL
    assert (
        "none of the issue templates (.github/ISSUE_TEMPLATE/bug_report.md) asks about security"
        in ticket.findings[0].message
    )
    pr = result(report, PR)
    assert pr.status is Status.FAIL
    assert pr.findings[0].message.startswith("no pull request template: looked for")


def test_no_issue_templates_is_unknown(make_repo: MakeRepo) -> None:
    root = make_repo(files={"README.md": "# x\n", ".github/pull_request_template.md": "## What\n"})
    ticket = result(scan_only(root, TICKET), TICKET)
    assert ticket.status is Status.UNKNOWN
    message = ticket.findings[0].message
    assert "no issue templates" in message and "Jira" in message
    assert "nor does the pull request template (.github/pull_request_template.md)" in message


def test_a_pr_template_alone_evidences_the_pr_control_but_not_refinement(
    make_repo: MakeRepo,
) -> None:
    """Issue 12: a PR template asks at review; it does not prove that tickets are refined with the
    OWASP Top 10, so alone it is partial for ticket-security (and passes pr-template-security)."""
    root = make_repo(files={"PULL_REQUEST_TEMPLATE.md": OWASP_PR})
    report = scan_only(root, *BOTH)
    ticket = result(report, TICKET)
    assert ticket.status is Status.PARTIAL
    message = ticket.findings[0].message
    assert "refers to the OWASP Top 10 (line 2), at review, not at refinement" in message
    assert "there are no issue templates" in message
    assert "ask in the issue templates which OWASP Top 10 risks the change touches" in message
    assert result(report, PR).status is Status.PASS


def test_a_pr_template_does_not_lift_issue_templates_that_ask_without_owasp() -> None:
    issue = "## Security\n\nWhat are the security implications?\n"
    files: dict[str, str | bytes] = {
        ".github/ISSUE_TEMPLATE/story.md": issue,
        ".github/pull_request_template.md": OWASP_PR,
    }
    (f,) = ticket_probe.run(facts_of(files))
    assert f.outcome is Outcome.PARTIAL
    assert "story.md asks about security" in f.message and "does not refer" in f.message


def test_a_generated_issue_template_is_partial_until_adopted() -> None:
    form = (
        "# generated_by: secposture fix 0.1.0 (tailor the questions)\nname: Change\n"
        "description: x\nbody:\n  - type: textarea\n    attributes:\n"
        "      label: Which OWASP Top 10 risks does this change touch?\n"
    )
    path = ".github/ISSUE_TEMPLATE/change.yml"
    (f,) = ticket_probe.run(facts_of({path: form}))
    assert f.outcome is Outcome.PARTIAL
    assert f"{path} was generated by secposture fix (generated_by at line 1)" in f.message
    assert str(f.location) == f"{path}:1"
    (f,) = ticket_probe.run(facts_of({path: form.split("\n", 1)[1]}))
    assert f.outcome is Outcome.POSITIVE
    # The team's own template that asks wins over the generated one.
    own = ".github/ISSUE_TEMPLATE/story.md"
    (f,) = ticket_probe.run(
        facts_of({path: form, own: "Which OWASP Top 10 risks does the story touch?\n"})
    )
    assert f.outcome is Outcome.POSITIVE and own in f.message


def test_a_generated_markdown_issue_template_is_known_by_its_html_comment() -> None:
    text = (
        "---\nname: Story\nabout: x\n---\n"
        "<!-- generated_by: secposture fix 0.1.0 (tailor, then delete this line) -->\n"
        "Which OWASP Top 10 risks does this story touch?\n"
    )
    found = facts_of({".github/ISSUE_TEMPLATE/story.md": text}).get(templates.collect)
    assert found.issue[0].generated == 5


# --- facts ---------------------------------------------------------------------------------------


def test_where_templates_are_found() -> None:
    files: dict[str, str | bytes] = {
        ".github/PULL_REQUEST_TEMPLATE/feature.md": "x",
        ".github/PULL_REQUEST_TEMPLATE/hotfix.md": "x",
        "docs/Pull_Request_Template.md": "x",
        "src/pull_request_template.md": "x",
        ".github/ISSUE_TEMPLATE/config.yml": "blank_issues_enabled: false\n",
        ".github/ISSUE_TEMPLATE/bug.yaml": "name: Bug\n",
        ".github/issue_template.md": "x",
        ".github/ISSUE_TEMPLATE/notes.txt": "x",
    }
    found = facts_of(files).get(templates.collect)
    assert [t.path for t in found.pr] == [
        ".github/PULL_REQUEST_TEMPLATE/feature.md",
        ".github/PULL_REQUEST_TEMPLATE/hotfix.md",
        "docs/Pull_Request_Template.md",
    ]
    assert [t.path for t in found.issue] == [
        ".github/ISSUE_TEMPLATE/bug.yaml",
        ".github/issue_template.md",
    ]


def test_form_texts_and_checkboxes() -> None:
    doc = parse_yaml(
        "name: Story\ndescription: d\nbody:\n"
        "  - type: dropdown\n    attributes:\n      label: Risk\n      options: [Low, 3, {x: 1}]\n"
        "  - type: checkboxes\n    attributes:\n      label: Checks\n      options:\n"
        "        - label: No secrets in the change\n        - label: Docs\n"
        "  - type: markdown\n    attributes:\n      value: |\n        line one\n        line two\n"
    )
    lines = templates.form_lines(doc)
    assert [(t.line, t.text, t.checkbox) for t in lines] == [
        (1, "Story", False),
        (2, "d", False),
        (6, "Risk", False),
        (7, "Low", False),
        (7, "3", False),
        (10, "Checks", False),
        (12, "No secrets in the change", True),
        (13, "Docs", True),
        (17, "line one", False),
        (18, "line two", False),
    ]


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Does this change touch authentication or authorisation?", True),
        ("Security considerations", True),
        ("Any new permissions?", True),
        ("Please report security vulnerabilities privately.", False),
        ("Do not open an issue for a vulnerability; see SECURITY.md", False),
        ("Author of the change", False),
        ("Tokenizer settings", False),
    ],
)
def test_what_counts_as_asking_about_security(text: str, asks: bool) -> None:
    assert templates.asks_security(text) is asks


def test_owasp_mentions() -> None:
    assert templates.names_owasp_top10("See the OWASP Top Ten")
    assert templates.names_owasp_top10("https://owasp.org/Top10/")
    assert not templates.names_owasp_top10("OWASP ASVS level 2")


def test_owasp_without_top_10_is_partial() -> None:
    files: dict[str, str | bytes] = {
        ".github/ISSUE_TEMPLATE/story.md": "## Security\nWhich OWASP ASVS requirements apply?\n"
    }
    (f,) = ticket_probe.run(facts_of(files))
    assert f.outcome is Outcome.PARTIAL


def test_security_question_prefers_the_line_naming_owasp() -> None:
    text = "Security notes\n\nWhich OWASP Top 10 risks apply?\n"
    (f,) = ticket_probe.run(facts_of({".github/ISSUE_TEMPLATE/a.md": text}))
    assert f.outcome is Outcome.POSITIVE
    assert str(f.location) == ".github/ISSUE_TEMPLATE/a.md:3"


# --- hostile input -------------------------------------------------------------------------------

HOSTILE: list[str | bytes] = [
    b"\x00\x01",
    b"\xff\xfe- [ ] security",
    "",
    "[]",
    "body: 5",
    "body: [1, null, {attributes: []}]",
    "body:\n  - attributes: {label: [security], options: {a: b}}\n",
    "name: [",
    "{{{",
    "- [ ] " + "security " * 50_000,
    "body:\n" + "  - attributes: {label: x}\n" * 3000,
    "name: &a [*a]\n",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_templates_never_raise(text: str | bytes) -> None:
    files: dict[str, str | bytes] = {
        ".github/ISSUE_TEMPLATE/a.yml": text,
        ".github/ISSUE_TEMPLATE/b.md": text,
        ".github/pull_request_template.md": text,
    }
    facts = facts_of(files)
    assert ticket_probe.run(facts)
    (f,) = checklist_probe.run(facts)
    assert f.outcome in (Outcome.POSITIVE, Outcome.NEGATIVE)


def test_unreadable_pr_template_names_the_problem() -> None:
    (f,) = checklist_probe.run(facts_of({".github/pull_request_template.md": b"\x00binary"}))
    assert f.outcome is Outcome.NEGATIVE
    assert "is binary, not text" in f.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                ["name", "body", "attributes", "label", "options", "type", "value", "x"]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_form_parsing_never_raises(doc: object) -> None:
    text = json.dumps(doc)
    facts = facts_of(
        {".github/ISSUE_TEMPLATE/a.yml": text, ".github/pull_request_template.md": text}
    )
    assert ticket_probe.run(facts)
    assert templates.form_lines(doc) is not None


@settings(max_examples=75, deadline=None)
@given(st.text(max_size=400))
def test_markdown_parsing_never_raises(text: str) -> None:
    lines = templates.markdown_lines(text)
    assert len(lines) == len(text.splitlines())
    assert checklist_probe.run(facts_of({"pull_request_template.md": text}))
