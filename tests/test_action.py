"""The GitHub Action this repository ships (action.yml): its shell steps run as GitHub runs
them (bash, the inputs in the environment), with a stand-in `secposture` that records its
arguments."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ACTION = Path(__file__).resolve().parent.parent / "action.yml"


def step(name: str) -> dict[str, object]:
    steps = YAML(typ="safe").load(ACTION.read_text("utf-8"))["runs"]["steps"]
    return next(s for s in steps if s.get("name") == name)


def run_step(name: str, tmp_path: Path, inputs: dict[str, str]) -> list[list[str]]:
    """Run the step's script with its env (inputs substituted); the commands it ran."""
    calls = tmp_path / "calls"
    stub = tmp_path / "bin" / "secposture"
    stub.parent.mkdir()
    stub.write_text(f'#!/bin/sh\nprintf "%s\\0" "$@" >> {calls}\nprintf "\\n" >> {calls}\n')
    stub.chmod(0o755)
    found = step(name)
    env = {"PATH": f"{stub.parent}:{os.environ['PATH']}", "RUNNER_TEMP": str(tmp_path)}
    env["GITHUB_OUTPUT"] = str(tmp_path / "output")
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary")
    for key, value in dict(found.get("env") or {}).items():  # type: ignore[call-overload]
        expression = str(value).removeprefix("${{ inputs.").removesuffix(" }}")
        env[key] = inputs[expression]
    subprocess.run(["bash", "-e", "-c", str(found["run"])], env=env, check=True)
    lines = calls.read_bytes().split(b"\n")
    return [[a.decode() for a in line.split(b"\0") if a] for line in lines if line]


@pytest.mark.parametrize("name", ["Scan", "Gate"])
def test_the_operators_policy_reaches_every_scan_the_action_runs(name: str, tmp_path: Path) -> None:
    inputs = {"path": ".", "fail-on": "required", "policy": "org/secposture.toml"}
    commands = run_step(name, tmp_path, inputs)
    assert commands and all(
        c[c.index("--policy") + 1] == "org/secposture.toml" for c in commands
    ), commands


@pytest.mark.parametrize("name", ["Scan", "Gate"])
def test_without_a_policy_input_no_policy_option_is_passed(name: str, tmp_path: Path) -> None:
    commands = run_step(name, tmp_path, {"path": "app dir", "fail-on": "never", "policy": ""})
    assert commands and all("--policy" not in c and c[1] == "app dir" for c in commands)
