"""The pieces `secposture fix` hardens existing workflows with (issue 12, ADR 0016): text edits
checked against the data (fix/yaml_edit.py), where an expression sits in a shell script
(fix/shell_quoting.py) and the commit a tag names (fix/action_pins.py), each on hostile input."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.facts.parsing import parse_yaml
from secposture.fix.action_pins import GitHubPins, Pin, TablePins, pins_query
from secposture.fix.shell_quoting import Place, places, reference, shell_name
from secposture.fix.yaml_edit import (
    TextEdit,
    YamlEditError,
    apply_checked,
    apply_edits,
    compose_document,
    insert_entry,
    mapping_entry,
    node_at,
    replace_value,
)
from secposture.sources.github.transport import GitHubClient

# --- text edits, checked ------------------------------------------------------------------------

WORKFLOW = """\
name: CI
# triggers
on: push

# the jobs
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - name: Test  # the tests
        run: make test
"""


def test_an_entry_goes_above_the_key_named_with_the_comments_above_it_kept_with_it() -> None:
    root = compose_document(WORKFLOW)
    edit = insert_entry(WORKFLOW, root, ["permissions:", "  contents: read"], before=("jobs",))
    edited = apply_edits(WORKFLOW, [edit])
    assert "on: push\n\npermissions:\n  contents: read\n\n# the jobs\njobs:\n" in edited
    assert parse_yaml(edited)["permissions"] == {"contents": "read"}


def test_an_entry_is_added_to_a_step_before_its_run_in_the_step_indentation() -> None:
    root = compose_document(WORKFLOW)
    step = node_at(root, ("jobs", "build", "steps", 0))
    edit = insert_entry(WORKFLOW, step, ["env:", "  A: b"], before=("run",))
    edited = apply_edits(WORKFLOW, [edit])
    assert (
        "      - name: Test  # the tests\n        env:\n          A: b\n        run: make test\n"
        in (edited)
    )


def test_a_first_key_on_the_dash_line_gets_the_new_entry_after_the_last_one() -> None:
    text = "steps:\n  - run: echo hi\n    name: x\n"
    step = node_at(compose_document(text), ("steps", 0))
    edited = apply_edits(text, [insert_entry(text, step, ["env:", "  A: b"], before=("run",))])
    assert edited == "steps:\n  - run: echo hi\n    name: x\n    env:\n      A: b\n"


def test_a_checked_edit_that_changes_more_than_intended_is_refused() -> None:
    text = "a: &x {b: 1}\nc: *x\n"
    # Writing inside the anchored mapping would change `c` too: the data check sees it.
    edit = TextEdit(text.index("1"), text.index("1") + 1, "2")

    def expect(data: dict[str, dict[str, int]]) -> None:
        data["a"]["b"] = 2

    with pytest.raises(YamlEditError, match="changing what it already says"):
        apply_checked(text, [edit], expect)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("on: push\n---\njobs: {}\n", "one YAML document"),
        ("", "empty"),
        ("a: [\n", "one YAML document"),
    ],
)
def test_what_is_not_one_document_is_refused(text: str, why: str) -> None:
    with pytest.raises(YamlEditError, match=why):
        compose_document(text)


def test_a_flow_mapping_takes_no_block_entries() -> None:
    text = "jobs: {build: {runs-on: x, steps: []}}\n"
    job = node_at(compose_document(text), ("jobs", "build"))
    with pytest.raises(YamlEditError, match="flow style"):
        insert_entry(text, job, ["permissions: {}"])


def test_replacing_a_value_keeps_the_comment_on_the_key_line_and_crlf() -> None:
    text = "permissions: write-all  # for the release\r\njobs: {}\r\n"
    root = compose_document(text)
    entry = mapping_entry(root, "permissions")
    assert entry is not None
    edits = replace_value(text, *entry, ["contents: read"])
    edited = apply_edits(text, edits)
    assert edited == "permissions:  # for the release\r\n  contents: read\r\njobs: {}\r\n"


# --- shell quoting ------------------------------------------------------------------------------


def _at(shell: str, script: str) -> dict[str, Place]:
    spans = [(m.start(), m.end()) for m in re.finditer(r"\$\{\{.*?\}\}", script)]
    found = places(shell, script, spans, [s for s, _ in spans])
    return {script[s:e]: found[s] for s, e in spans}


def test_bash_places() -> None:
    script = (
        "echo \"a ${{ 1 }}\" '${{ 2 }}' ${{ 3 }} # ${{ 4 }}\n"
        "cat <<EOF\n${{ 5 }}\nEOF\n"
        "cat <<'EOF'\n${{ 6 }}\nEOF\n"
        'echo "$(echo ${{ 7 }})" `echo ${{ 8 }}` $((${{ 9 }} + 1)) ${#x} ${{ 10 }}\n'
        "echo \"${{ github.event.issue.title || 'it''s' }}\" ${{ 11 }}\n"
    )
    assert _at("bash", script) == {
        "${{ 1 }}": Place.DOUBLE,
        "${{ 2 }}": Place.SINGLE,
        "${{ 3 }}": Place.UNQUOTED,
        "${{ 4 }}": Place.COMMENT,
        "${{ 5 }}": Place.HEREDOC,
        "${{ 6 }}": Place.UNKNOWN,
        "${{ 7 }}": Place.UNQUOTED,
        "${{ 8 }}": Place.UNKNOWN,
        "${{ 9 }}": Place.UNKNOWN,
        "${{ 10 }}": Place.UNQUOTED,
        "${{ github.event.issue.title || 'it''s' }}": Place.DOUBLE,
        "${{ 11 }}": Place.UNQUOTED,
    }


def test_powershell_places() -> None:
    script = 'Write-Host "a ${{ 1 }}" \'${{ 2 }}\' ${{ 3 }} # ${{ 4 }}\n"$(x) ${{ 5 }}"\n'
    assert _at("pwsh", script) == {
        "${{ 1 }}": Place.DOUBLE,
        "${{ 2 }}": Place.UNKNOWN,
        "${{ 3 }}": Place.UNQUOTED,
        "${{ 4 }}": Place.COMMENT,
        "${{ 5 }}": Place.UNKNOWN,
    }


@pytest.mark.parametrize(
    ("shell", "place", "expected"),
    [
        ("bash", Place.UNQUOTED, '"${T}"'),
        ("bash", Place.DOUBLE, "${T}"),
        ("sh", Place.SINGLE, "'\"${T}\"'"),
        ("bash", Place.UNKNOWN, None),
        ("pwsh", Place.DOUBLE, "${env:T}"),
        ("pwsh", Place.SINGLE, None),
        ("python", Place.UNQUOTED, None),
    ],
)
def test_references(shell: str, place: Place, expected: str | None) -> None:
    assert reference(shell, place, "T") == expected


def test_shell_names() -> None:
    assert shell_name("bash -e {0}") == "bash"
    assert shell_name("/usr/bin/pwsh -command \". '{0}'\"") == "pwsh"
    assert shell_name("perl {0}") is None
    assert shell_name("") is None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(alphabet="ab $\"'`#()\\\n<-E{}_@", max_size=200), st.sampled_from(["bash", "pwsh"]))
def test_any_script_is_read_without_raising(script: str, shell: str) -> None:
    offsets = list(range(0, len(script) + 1, 7))
    found = places(shell, script, [], offsets)
    assert set(found) == set(offsets)


# --- pins ---------------------------------------------------------------------------------------


def test_the_table_pins_only_the_tags_it_lists() -> None:
    table = TablePins()
    pin = table.pin("actions/checkout", "v4.2.2")
    assert pin == Pin(
        "11bd71901bbe5b1630ceea73d27597364c9af683",
        pin.source if isinstance(pin, Pin) else "",
    )
    moving = table.pin("Actions/Checkout", "v4")
    assert isinstance(moving, Pin) and moving.moving
    assert "not in secposture's pin table" in str(table.pin("actions/checkout", "v4.2.99"))
    assert "not in secposture's pin table" in str(table.pin("acme/unknown", "v1"))
    assert "short commit id" in str(table.pin("actions/checkout", "11bd719"))
    assert "not a ref" in str(table.pin("actions/checkout", "v1..v2"))


def test_the_query_asks_for_tags_and_branches_and_peels_tag_objects() -> None:
    query = pins_query({"actions/checkout": ["v4", "main"]})
    assert 't0: ref(qualifiedName: "refs/tags/v4")' in query
    assert 'b1: ref(qualifiedName: "refs/heads/main")' in query
    assert query.count("... on Tag") == 3 * 2  # three tag objects deep, for each ref


def test_github_pins_resolve_in_one_query_annotated_tags_peeled() -> None:
    from fake_github import FakeGitHub, FakeOrg, FakeRepo

    from secposture.sources.github.auth import Secret, TokenCredentials

    action = "name: a\nruns:\n  using: node20\n  main: index.js\n"
    repo = FakeRepo(
        "actions",
        "checkout",
        files={"action.yml": action},
        tags={"v4": {"action.yml": action + "# 4\n"}, "v4.2.2": {"action.yml": action + "# 2\n"}},
        annotated_tags={"v4.2.2"},
    )
    gh = FakeGitHub(orgs=[FakeOrg("actions", [repo])], tokens={"tok": "read"})
    with gh.serve() as url:
        client = GitHubClient(url, TokenCredentials(Secret("tok"), "test"))
        pins = GitHubPins(client, fallback=TablePins())
        pins.prepare(
            [("actions/checkout", "v4"), ("actions/checkout", "v4.2.2"), ("acme/gone", "v1")]
        )
        lightweight = pins.pin("actions/checkout", "v4")
        annotated = pins.pin("actions/checkout", "v4.2.2")
        branch = pins.pin("actions/checkout", "main")
        missing = pins.pin("acme/gone", "v1")
        client.close()
    assert gh.unvalidated == []
    assert isinstance(lightweight, Pin) and isinstance(annotated, Pin)
    assert repo.tag_snapshot("v4") is not None and repo.tag_snapshot("v4.2.2") is not None
    assert lightweight.sha == repo.tag_snapshot("v4").commit_oid  # type: ignore[union-attr]
    assert annotated.sha == repo.tag_snapshot("v4.2.2").commit_oid  # type: ignore[union-attr]
    assert isinstance(branch, Pin) and branch.branch
    assert "not found on GitHub" in str(missing)
    graphql = [r for r in gh.log if r.kind == "graphql"]
    assert len(graphql) == 2  # the prepared batch, and `main` asked for later


def test_github_pins_fall_back_to_the_table_when_github_cannot_be_asked() -> None:
    pins = GitHubPins(None, fallback=TablePins())
    pins.failure = "GitHub could not be asked (no token)"
    assert isinstance(pins.pin("actions/checkout", "v4.2.2"), Pin)
    assert "GitHub could not be asked" in str(pins.pin("acme/x", "v1"))
