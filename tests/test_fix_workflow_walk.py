"""The dangerous-workflow fix reads the one walk the workflow-security probes share
(facts/workflows.py `visits`): a workflow whose calls fan out past the walk's budget, which the
probe calls unknown, is left whole, as the fix's note says, while the other workflows are fixed."""

from __future__ import annotations

from conftest import TODAY

from secposture.fix.plan import plan_fixes
from secposture.policy import default_policy
from secposture.scan import scan_snapshot
from secposture.sources.memory import MemorySnapshot

RISKY = (
    "  first:\n    runs-on: ubuntu-latest\n    steps:\n"
    '      - run: echo "${{ github.event.issue.title }}"\n'
)


def _calling(name: str, callee: str, first: str = "") -> str:
    jobs = "".join(f"  j{k}:\n    uses: ./.github/workflows/{callee}.yml\n" for k in range(40))
    return f"on:\n  {name}:\njobs:\n{first}{jobs}"


def test_a_workflow_past_the_walks_budget_is_left_whole_and_the_note_says_so() -> None:
    # wide.yml's first job expands an issue title inline, then 40 jobs call 40 jobs calling 40
    # one-step jobs: 64,000 steps, past the 20,000 followed. Walked step by step, the fix used
    # to edit the steps it met before the budget ran out while noting the file was not changed.
    leaf = "".join(
        f"  j{k}:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n" for k in range(40)
    )
    files: dict[str, str | bytes] = {
        ".github/workflows/wide.yml": _calling("issues", "middle", RISKY),
        ".github/workflows/middle.yml": _calling("workflow_call", "leaf"),
        ".github/workflows/leaf.yml": f"on:\n  workflow_call:\njobs:\n{leaf}",
        ".github/workflows/other.yml": f"on:\n  issues:\njobs:\n{RISKY}",
    }
    snapshot = MemorySnapshot(files)
    policy = default_policy()
    report = scan_snapshot(snapshot, policy, TODAY)
    plan = plan_fixes(snapshot, policy, report, today=TODAY, only=["dangerous-workflow"])
    assert [change.path for change in plan.changes] == [".github/workflows/other.yml"]
    assert any(
        item.reason == ".github/workflows/wide.yml: its calls reach more than 20,000 jobs and "
        "steps: its scripts were not changed"
        for item in plan.skipped
    ), plan.skipped
