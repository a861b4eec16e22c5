"""The one walk the workflow-security probes share (facts/workflows.py `visits`): it gives each
step what a walk per set of untrusted values gives, and a workflow whose calls fan out past the
walk's budget is `unknown` for both probes, naming the budget."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from conftest import FIXTURES

from secposture.facts import workflows
from secposture.facts.interface import Facts
from secposture.facts.workflow_expressions import config, resolvers, walk_steps
from secposture.model import Outcome
from secposture.policy import default_policy
from secposture.probes.interface import load_probe
from secposture.sources.memory import MemorySnapshot

DAY = date(2026, 12, 7)

# A chain that exercises every hop: workflow, job and step `env:`, `with:` into a reusable
# workflow's `inputs.*`, and `with:` into a composite action's.
CHAIN: dict[str, str | bytes] = {
    ".github/workflows/target.yml": (
        "on: [pull_request_target, issues]\n"
        "env:\n  TOP: ${{ github.event.issue.title }}\n"
        "jobs:\n"
        "  call:\n    uses: ./.github/workflows/called.yml\n    with:\n"
        "      title: ${{ github.event.issue.body }}\n"
        "      ref: ${{ github.event.pull_request.head.sha }}\n"
        "  local:\n    runs-on: ubuntu-latest\n    env:\n      REF: ${{ github.head_ref }}\n"
        "    steps:\n      - uses: ./act\n        with:\n          t: ${{ env.TOP }}\n"
        "      - run: git checkout $REF\n        env:\n          TOP: fixed\n"
    ),
    ".github/workflows/called.yml": (
        "on:\n  workflow_call:\n    inputs:\n      title:\n        type: string\n"
        "      ref:\n        type: string\n"
        "jobs:\n  inner:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n        with:\n          ref: ${{ inputs.ref }}\n"
        "      - run: echo ${{ inputs.title }}\n"
    ),
    "act/action.yml": (
        "runs:\n  using: composite\n  steps:\n    - run: echo ${{ inputs.t }}\n      shell: bash\n"
    ),
}


def _repositories() -> list[dict[str, str | bytes]]:
    found: list[dict[str, str | bytes]] = [CHAIN]
    corpus = FIXTURES / "workflow-corpus"
    folders = [f for f in sorted(corpus.iterdir()) if f.is_dir()]
    folders += [FIXTURES / "workflows-risky", FIXTURES / "workflows-hardened"]
    for folder in folders:
        found.append(_files(folder))
    return found


def _files(folder: Path) -> dict[str, str | bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_one_walk_gives_each_step_what_a_walk_per_set_of_untrusted_values_gives() -> None:
    cfg = config()
    compared = 0
    for files in _repositories():
        facts = Facts(MemorySnapshot(files), default_policy(), DAY)
        resolve = resolvers(facts)
        for visit in facts.get(workflows.visits):
            assert visit.limit is None
            assert list(visit.refs()) == list(
                walk_steps(visit.workflow, resolve, cfg.untrusted_refs)
            )
            alone = list(walk_steps(visit.workflow, resolve, cfg.untrusted_contexts))
            assert list(visit.values()) == alone
            compared += len(alone)
    assert compared > 50
    # The chain's taints arrive by each hop, under the right set of untrusted values only.
    facts = Facts(MemorySnapshot(CHAIN), default_policy(), DAY)
    (called, target) = facts.get(workflows.visits)
    inner = [c for c in target.values() if c.called]
    assert inner[1].inputs["title"].context == "github.event.issue.body"
    assert "title" not in next(c for c in target.refs() if c.called).inputs
    assert next(c for c in target.refs() if c.called).inputs["ref"].context == (
        "github.event.pull_request.head.sha"
    )
    assert called.workflow.path == ".github/workflows/called.yml"


def test_a_workflow_whose_calls_fan_out_past_the_budget_is_unknown_to_both_probes() -> None:
    # 40 jobs calling 40 jobs calling 40 one-step jobs: 64,000 steps, past the 20,000 followed.
    def calling(name: str, callee: str) -> str:
        jobs = "".join(f"  j{k}:\n    uses: ./.github/workflows/{callee}.yml\n" for k in range(40))
        return f"on:\n  {name}:\njobs:\n{jobs}"

    leaf = "".join(
        f"  j{k}:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n" for k in range(40)
    )
    files: dict[str, str | bytes] = {
        ".github/workflows/wide.yml": calling("pull_request_target", "middle"),
        ".github/workflows/middle.yml": calling("workflow_call", "leaf"),
        ".github/workflows/leaf.yml": f"on:\n  workflow_call:\njobs:\n{leaf}",
    }
    facts = Facts(MemorySnapshot(files), default_policy(), DAY)
    visits = {v.workflow.path: v for v in facts.get(workflows.visits)}
    assert visits[".github/workflows/wide.yml"].limit is not None
    assert visits[".github/workflows/wide.yml"].steps == ()
    for probe in ("workflow-no-untrusted-checkout", "workflow-no-script-injection"):
        (wide,) = [
            f
            for f in load_probe(probe).run(facts)
            if f.location and f.location.path == ".github/workflows/wide.yml"
        ]
        assert wide.outcome is Outcome.UNKNOWN
        assert "its calls reach more than 20,000 jobs and steps, more than are followed" in (
            wide.message
        )
