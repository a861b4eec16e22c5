"""The probe stage.

A probe is a folder `probes/<id_with_underscores>/` holding `def.toml` (id, question, remediation,
guidance reference, and the file globs it reads, from which the GitHub source plans its fetches)
and `impl.py` with `run(facts) -> list[Finding]`. Probes are loaded by id, only when an enabled
control names them.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from secposture.model import Finding, Location, Outcome, Problem

if TYPE_CHECKING:
    from secposture.facts.interface import Facts
    from secposture.facts.references import Unread


@dataclass(frozen=True)
class ProbeDefinition:
    id: str
    question: str
    remediation: str
    guidance: str
    reads: tuple[str, ...]  # globs of the files it reads ("api:..." for settings)


@dataclass(frozen=True)
class Probe:
    definition: ProbeDefinition
    run: Callable[[Facts], list[Finding]]


def module_name(probe_id: str) -> str:
    return probe_id.replace("-", "_")


@cache
def load_probe(probe_id: str) -> Probe:
    pkg = f"secposture.probes.{module_name(probe_id)}"
    raw = tomllib.loads(resources.files(pkg).joinpath("def.toml").read_text("utf-8"))
    definition = ProbeDefinition(
        id=raw["id"],
        question=raw["question"],
        remediation=raw["remediation"],
        guidance=raw["guidance"],
        reads=tuple(raw.get("reads", ())),
    )
    if definition.id != probe_id:
        raise RuntimeError(f"probe folder {pkg} defines id {definition.id!r}")
    impl = importlib.import_module(f"{pkg}.impl")
    return Probe(definition=definition, run=impl.run)


def finding(
    probe_id: str, outcome: Outcome, message: str, location: Location | None = None, **values: str
) -> Finding:
    """Shorthand for a probe's impl.py: `finding(PROBE, Outcome.POSITIVE, "...", loc)`."""
    return Finding(probe_id, outcome, message, location, values)


def unread(probe_id: str, refs: list[Unread], consequence: str, **values: str) -> Finding:
    """An `unknown` finding for evidence that may live in a file of another repository that
    could not be read: it names the reference and how to read it, and never says that nothing
    runs (docs/adr/0014-following-references-to-other-repositories.md)."""
    more = f" (and {len(refs) - 1} more such references)" if len(refs) > 1 else ""
    return Finding(
        probe_id,
        Outcome.UNKNOWN,
        f"{refs[0].describe()}: {consequence}{more}",
        refs[0].anchor,
        values,
    )


def unanalysed(probe_id: str, problem: Problem, consequence: str, **values: str) -> Finding:
    """An `unknown` finding for a file the probe needs but that could not be analysed: a file
    left out must never make a control pass or not apply (docs/adr/0010-parse-budgets.md)."""
    return Finding(
        probe_id,
        Outcome.UNKNOWN,
        f"{problem.path} cannot be analysed ({problem.message}): {consequence}",
        Location(problem.path, problem.line),
        values,
    )
