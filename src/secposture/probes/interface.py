"""The probe stage.

A probe is a folder `probes/<id_with_underscores>/` holding `def.toml` (id, question, remediation,
guidance reference, the file globs it reads, from which the GitHub source plans its fetches, what
each outcome it can give means, and the sources that can decide it) and `impl.py` with
`run(facts) -> list[Finding]`, whose id is `PROBE = probe_id(__name__)`: the one in def.toml.
Probes are loaded by id, only when an enabled control names them.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from secposture.catalogue import CatalogueError
from secposture.model import Finding, Location, Outcome, Problem

if TYPE_CHECKING:
    from secposture.facts.interface import Facts
    from secposture.facts.references import Unread


# Where a probe's answer can come from: the files of a checkout, GitHub (its files through the
# API, and the settings only the API shows), the register's records.
SOURCES = ("checkout", "github", "register")
_KEYS = frozenset({"id", "question", "remediation", "guidance", "reads", "outcomes", "sources"})


@dataclass(frozen=True)
class ProbeDefinition:
    id: str
    question: str
    remediation: str
    guidance: str
    reads: tuple[str, ...]  # globs of the files it reads ("api:..." for settings)
    # What each outcome the probe can give means; an outcome not here is one it never gives.
    outcomes: Mapping[Outcome, str] = field(hash=False)
    sources: tuple[str, ...]  # of SOURCES: what can decide it


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: `{key}` must be a non-empty string")
    return value


def _texts(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogueError(f"{where}: `{key}` must be a list of non-empty strings")
    return tuple(value)


def parse_definition(raw: Mapping[str, Any], where: str) -> ProbeDefinition:
    """A def.toml's table as a definition, or a CatalogueError naming the file and the key."""
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {', '.join(unknown)}")
    outcomes = raw.get("outcomes")
    if not isinstance(outcomes, Mapping) or not outcomes:
        raise CatalogueError(f"{where}: `outcomes` must be a table of outcome = meaning")
    names = {o.value for o in Outcome}
    for name in outcomes:
        if name not in names:
            raise CatalogueError(
                f"{where}: `outcomes.{name}` is not one of {', '.join(sorted(names))}"
            )
        _text(outcomes, name, f"{where}: outcomes")
    sources = _texts(raw, "sources", where)
    if not sources or any(s not in SOURCES for s in sources) or len(set(sources)) < len(sources):
        raise CatalogueError(
            f"{where}: `sources` must list some of {', '.join(SOURCES)}, once each"
        )
    return ProbeDefinition(
        id=_text(raw, "id", where),
        question=_text(raw, "question", where),
        remediation=_text(raw, "remediation", where),
        guidance=_text(raw, "guidance", where),
        reads=_texts(raw, "reads", where),
        outcomes={Outcome(name): text for name, text in outcomes.items()},
        sources=sources,
    )


@dataclass(frozen=True)
class Probe:
    definition: ProbeDefinition
    run: Callable[[Facts], list[Finding]]


def module_name(probe_id: str) -> str:
    return probe_id.replace("-", "_")


@cache
def definition_in(package: str) -> ProbeDefinition:
    """The def.toml of a probe's package (`secposture.probes.<folder>`), validated."""
    raw = tomllib.loads(resources.files(package).joinpath("def.toml").read_text("utf-8"))
    return parse_definition(raw, f"{package.replace('.', '/')}/def.toml")


def probe_id(module: str) -> str:
    """The id in def.toml beside a probe's module, for its findings: `PROBE = probe_id(__name__)`."""
    return definition_in(module.rpartition(".")[0]).id


@cache
def load_probe(probe_id: str) -> Probe:
    pkg = f"secposture.probes.{module_name(probe_id)}"
    definition = definition_in(pkg)
    if definition.id != probe_id:
        raise RuntimeError(f"probe folder {pkg} defines id {definition.id!r}")
    impl = importlib.import_module(f"{pkg}.impl")
    return Probe(definition=definition, run=impl.run)


def probe_reads(probe_id: str) -> tuple[str, ...]:
    """What a probe declares it reads (`reads` in its def.toml): file globs, `api:` settings and
    `register:` records. Handed to the GitHub source, which fetches what the probes need without
    importing them."""
    return load_probe(probe_id).definition.reads


def finding(
    probe_id: str, outcome: Outcome, message: str, location: Location | None = None, **values: str
) -> Finding:
    """Shorthand for a probe's impl.py: `finding(PROBE, Outcome.POSITIVE, "...", loc)`, where
    `PROBE = probe_id(__name__)`."""
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
