"""Generate realistic repositories from a seed: languages, monorepos, process files present or not.

Used by the benchmarks (and reusable by tests): the same seed gives the same repository.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}

PRECOMMIT = """repos:
  - repo: https://github.com/gitleaks/gitleaks
    rev: v8.21.2
    hooks:
      - id: gitleaks
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.8.0
    hooks:
      - id: ruff
  - repo: https://github.com/pre-commit/mirrors-eslint
    rev: v9.14.0
    hooks:
      - id: eslint
"""

WORKFLOW = """name: CI
on: [push, pull_request]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: actions/setup-python@v5
      - run: pip install -e . && pytest
      - run: make lint
      - uses: pre-commit/action@v3.0.1
"""

DEPENDABOT_HEAD = "version: 2\nupdates:\n"
DEPENDABOT_ENTRY = (
    "  - package-ecosystem: {eco}\n    directory: {dir}\n    schedule:\n      interval: weekly\n"
)

ADR = """---
status: accepted
date: 2025-06-01
tags: [security]
---
# {n}. Use OIDC for authentication

## Decision
We authenticate users with OIDC and store no passwords.
"""


def _files(rng: random.Random, n_files: int) -> dict[str, str]:
    files: dict[str, str] = {"README.md": "# demo\n"}
    ecosystems: list[tuple[str, str]] = []
    if rng.random() < 0.8:
        files["pyproject.toml"] = (
            '[project]\nname = "demo"\ndependencies = ["requests"]\n[tool.ruff]\n'
        )
        ecosystems.append(("pip", "/"))
        files["Makefile"] = "lint:\n\truff check .\n"
    if rng.random() < 0.5:
        files["frontend/package.json"] = '{"name": "web", "scripts": {"lint": "eslint ."}}\n'
        ecosystems.append(("npm", "/frontend"))
    if rng.random() < 0.3:
        files["services/api/go.mod"] = "module example.org/api\n\ngo 1.22\n"
        ecosystems.append(("gomod", "/services/api"))
    if rng.random() < 0.4:
        files["infra/main.tf"] = (
            'resource "aws_ecr_repository" "app" {\n  name = "app"\n  image_scanning_configuration {\n    scan_on_push = true\n  }\n}\n'
        )
        ecosystems.append(("terraform", "/infra"))
    if rng.random() < 0.5:
        files["Dockerfile"] = "FROM python:3.12-slim\nCOPY . /app\n"
        ecosystems.append(("docker", "/"))
    if rng.random() < 0.7:
        files[".pre-commit-config.yaml"] = PRECOMMIT
    if rng.random() < 0.7:
        files[".github/workflows/ci.yml"] = WORKFLOW
        ecosystems.append(("github-actions", "/"))
    if rng.random() < 0.6:
        kept = [e for e in ecosystems if rng.random() < 0.8]
        files[".github/dependabot.yml"] = DEPENDABOT_HEAD + "".join(
            DEPENDABOT_ENTRY.format(eco=e, dir=d) for e, d in kept
        )
    if rng.random() < 0.5:
        for i in range(1, rng.randint(2, 6)):
            files[f"docs/adr/{i:04d}-decision-{i}.md"] = ADR.format(n=i)
    if rng.random() < 0.5:
        files["SECURITY.md"] = "Report vulnerabilities privately.\n"
    if rng.random() < 0.5:
        files[".github/CODEOWNERS"] = "* @org/team\n"
    if rng.random() < 0.5:
        files[".github/pull_request_template.md"] = (
            "## Security\n- [ ] Considered the OWASP Top 10\n"
        )
    if rng.random() < 0.4:
        files["docs/threat-model/README.md"] = (
            "---\nlast_reviewed_on: 2026-09-01\n---\n# Threat model\n"
        )
    # Code and tests up to the size asked for.
    i = 0
    while len(files) < n_files:
        kind = rng.random()
        if kind < 0.5:
            files[f"src/demo/module_{i}.py"] = f"def f{i}(x):\n    return x + {i}\n"
        elif kind < 0.7:
            files[f"tests/test_module_{i}.py"] = f"def test_f{i}():\n    assert {i} == {i}\n" + (
                "def test_requires_login():\n    assert 401\n" if i % 97 == 0 else ""
            )
        elif kind < 0.85:
            files[f"frontend/src/component_{i}.ts"] = f"export const c{i} = {i};\n"
        else:
            files[f"docs/page_{i}.md"] = f"# Page {i}\n"
        i += 1
    return files


def generate(root: Path, seed: int, n_files: int = 40) -> Path:
    """Write and commit a repository at `root`; returns `root`."""
    rng = random.Random(seed)
    for rel, text in _files(rng, n_files).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    run = {"cwd": root, "env": GIT_ENV, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)  # type: ignore[call-overload]
    subprocess.run(["git", "add", "-A"], **run)  # type: ignore[call-overload]
    subprocess.run(["git", "commit", "-q", "--no-verify", "-m", "generated"], **run)  # type: ignore[call-overload]
    return root
