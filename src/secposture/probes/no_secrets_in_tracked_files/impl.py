from __future__ import annotations

from secposture import catalogue
from secposture.facts.interface import Facts
from secposture.model import Finding, Location, Outcome
from secposture.probes.interface import finding, probe_id
from secposture.probes.no_secrets_in_tracked_files import baseline as baseline_file
from secposture.probes.no_secrets_in_tracked_files.scanner import Hit, Scanner

PROBE = probe_id(__name__)
_NOTES_SHOWN = 5


def run(facts: Facts) -> list[Finding]:
    cfg = catalogue.load("secrets")
    baseline = baseline_file.load(facts, cfg)
    notes = list(baseline.ignored)
    scanner = Scanner(baseline, cfg, notes)
    if notes and baseline.path is not None:
        facts.problem(baseline.path, _not_honoured(notes))
    out: list[Finding] = []
    hidden = scanned = 0
    for path in facts.paths:
        if scanner.skips(path):
            continue
        text = facts.read(path)  # binary, huge and non-UTF-8 files become Problems and are skipped
        if text is None:
            continue
        scanned += 1
        for hit in scanner.scan(path, text):
            key = (path, hit.hashed)
            audited = baseline.known.get(key) is True
            if key in baseline.known and not audited:
                continue  # accepted in the baseline (unaudited, or audited as not a secret)
            if len(out) >= cfg["max_reported"]:
                hidden += 1
                continue
            out.append(_negative(path, hit, baseline.path if audited else None))
    if hidden:
        out.append(
            finding(PROBE, Outcome.NEGATIVE, f"and {hidden} more possible secrets not listed")
        )
    if out:
        return out
    accepted = f", less those accepted in {baseline.path}" if baseline.path else ""
    return [
        finding(
            PROBE,
            Outcome.POSITIVE,
            f"no secrets found in {scanned} tracked text files ({len(scanner.plugins)} "
            f"detect-secrets plugins{accepted})",
        )
    ]


def _not_honoured(notes: list[str]) -> str:
    shown = "; ".join(notes[:_NOTES_SHOWN])
    more = f" (and {len(notes) - _NOTES_SHOWN} more)" if len(notes) > _NOTES_SHOWN else ""
    return f"settings not honoured: {shown}{more}"


def _negative(path: str, hit: Hit, audited_in: str | None) -> Finding:
    # The type only: the value (and its hash) must never reach a report.
    if audited_in is not None:
        why = f"audited as a real secret in {audited_in}: rotate it and remove it"
    else:
        why = "rotate it if real and remove it, or accept it in .secrets.baseline"
    return finding(
        PROBE,
        Outcome.NEGATIVE,
        f"{path}:{hit.line}: possible {hit.type} ({why})",
        Location(path, hit.line),
        type=hit.type,
    )
