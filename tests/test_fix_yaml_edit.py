"""Round-trip YAML editing: appended items land inside the list they extend, in its indentation;
every original line (comments included) stays, in order; anything that cannot be done safely is a
YamlEditError, never a broken file or a traceback."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from conftest import TODAY
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from test_fix_support import lines_kept

from secposture.facts.parsing import parse_yaml
from secposture.fix.plan import plan_fixes
from secposture.fix.yaml_edit import Commented, YamlEditError, append_to_sequence, dump, scalar
from secposture.policy import default_policy
from secposture.scan import scan_snapshot
from secposture.sources.memory import MemorySnapshot

# Generated scalars such as `1e3` make ruamel warn that YAML 1.1 floats need a dot: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::ruamel.yaml.error.MantissaNoDotYAML1_1Warning")

HOOK = {
    "repo": "https://github.com/gitleaks/gitleaks",
    "rev": "v8.30.1",
    "hooks": [{"id": "gitleaks"}],
}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("text", "expected_tail"),
    [
        # indented sequence (offset 2) with comments after the last item
        (
            "repos:\n  - repo: a\n    hooks:\n      - id: x  # mine\n  # - repo: old\n\nci: {}\n",
            "      - id: x  # mine\n  - repo: https://github.com/gitleaks/gitleaks\n",
        ),
        # sequence at the key's column (offset 0)
        (
            "repos:\n- repo: a\n  hooks:\n  - id: x\n",
            "  - id: x\n- repo: https://github.com/gitleaks/gitleaks\n",
        ),
        # the last item ends in a block scalar, and the file has no final newline
        (
            "repos:\n  - repo: local\n    hooks:\n      - id: x\n        entry: |\n          a\n          b\n",
            "          b\n  - repo: https://github.com/gitleaks/gitleaks\n",
        ),
        ("repos:\n  - repo: a\n    hooks: [{id: x}]", "hooks: [{id: x}]\n  - repo: https://"),
    ],
)
def test_items_are_appended_inside_the_list(text: str, expected_tail: str) -> None:
    edited = append_to_sequence(text, ("repos",), [HOOK])
    assert expected_tail in edited
    assert lines_kept(text, edited)
    assert _plain(parse_yaml(edited))["repos"][-1] == HOOK


def test_crlf_files_stay_crlf() -> None:
    text = "repos:\r\n  - repo: a\r\n    hooks:\r\n      - id: x\r\n"
    edited = append_to_sequence(text, ("repos",), [HOOK], comment="added")
    assert "\n" not in edited.replace("\r\n", "")
    assert edited.startswith(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("repos: [{repo: a}]\n", "flow sequence"),
        ("base: &b\n  - x\nrepos: *b\n", "alias"),
        ("repos: &r\n  - x\nother: *r\n", "anchor"),
        ("repos: {a: 1}\n", "not a list"),
        ("other: []\n", "no `repos` key"),
        ("a: 1\n---\nb: 2\n", "another document"),
        ("repos: [\n", "not valid YAML"),
        ("repos: []  x\n", "not valid YAML"),
    ],
)
def test_what_cannot_be_edited_safely_is_refused(text: str, why: str) -> None:
    with pytest.raises(YamlEditError, match=why):
        append_to_sequence(text, ("repos",), [HOOK])


def test_dump_writes_comments_and_quotes_what_needs_it() -> None:
    text = dump(
        {
            "on": {"push": {"branches": ["main"]}},
            "steps": [
                {"uses": Commented("actions/checkout@abc", "v4.2.2"), "with": {"count": "1"}}
            ],
            "words": ["yes", "off", "a,b", "#x", "a: b", "plain"],
        },
        ["header"],
    )
    assert text.startswith("# header\non:\n")
    assert "uses: actions/checkout@abc  # v4.2.2" in text
    assert 'count: "1"' in text
    assert 'words: ["yes", "off", "a,b", "#x", "a: b", plain]' in text
    assert scalar("${{ matrix.name }}") == "${{ matrix.name }}"


# --- property tests ------------------------------------------------------------------------------

_scalars = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.none(),
)
_keys = st.text(min_size=1, max_size=10)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)


def _rendered(data: dict[str, Any], flow: bool, mapping: int, offset: int, comments: bool) -> str:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = flow
    yaml.indent(mapping=mapping, sequence=mapping + offset, offset=offset)
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    if comments:
        text = "# a comment at the top\n" + text + "# and one at the end\n"
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.dictionaries(_keys, _values, max_size=4),
    repos=st.lists(_values, max_size=4),
    flow=st.booleans(),
    mapping=st.sampled_from([2, 4]),
    offset=st.sampled_from([0, 2]),
    comments=st.booleans(),
)
def test_appending_to_any_valid_yaml_is_exact_or_refused(
    doc: dict[str, Any],
    repos: list[Any],
    flow: bool,
    mapping: int,
    offset: int,
    comments: bool,
) -> None:
    doc = {**doc, "repos": repos}
    text = _rendered(doc, flow, mapping, offset, comments)
    try:
        original = parse_yaml(text)
    except ValueError:
        assume(False)  # ruamel's dumper wrote something no YAML reader accepts (`{?>: null}`)
    try:
        edited = append_to_sequence(text, ("repos",), [HOOK], comment="Added by secposture fix")
    except YamlEditError:
        return  # refused: the file stays as it was
    # `repos: []` becomes `repos:` with the items below it; every other line is kept.
    unflowed = re.sub(r"^repos: \[\]", "repos:", text, count=1, flags=re.MULTILINE)
    assert lines_kept(unflowed, edited)
    after = _plain(parse_yaml(edited))
    expected = _plain(original)
    expected["repos"].append(HOOK)
    assert after == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.builds(
            _rendered,
            st.dictionaries(_keys, _values, max_size=4),
            st.booleans(),
            st.sampled_from([2, 4]),
            st.sampled_from([0, 2]),
            st.booleans(),
        ),
    )
)
def test_the_plan_never_raises_on_any_config_text(text: str) -> None:
    files = {
        ".pre-commit-config.yaml": text,
        ".github/dependabot.yml": text,
        "requirements.txt": "flask\n",
        "app.py": "x\n",
    }
    snapshot = MemorySnapshot(files)
    policy = default_policy()
    report = scan_snapshot(snapshot, policy, TODAY)
    plan = plan_fixes(
        snapshot,
        policy,
        report,
        today=TODAY,
        only=["secrets-pre-commit", "dependency-update-config"],
    )
    for change in plan.changes:
        if change.before is not None:
            assert lines_kept(change.before, change.after)
            parse_yaml(change.after)  # whatever was written reads back
