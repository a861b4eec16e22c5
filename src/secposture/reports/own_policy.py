"""What a scanned repository's own policy file did, in words every format shares (ADR 0011).

Its error and each refused setting are also problems on the file (scan.py), so every format lists
them in full; this is the one line that says whether the file ruled, and what it loosened.
"""

from __future__ import annotations

from secposture.model import PolicyChange, RepositoryPolicy

MAX_KEYS = 8  # settings named in one line; the JSON report has them all


def _keys(keys: list[str]) -> str:
    shown = ", ".join(keys[:MAX_KEYS])
    more = len(keys) - MAX_KEYS
    return shown + (f" and {more} more" if more > 0 else "")


def policy_note(own: RepositoryPolicy | None) -> str | None:
    """One line on the repository's own policy file; None when it has none."""
    if own is None:
        return None
    if own.error is not None:
        instead = "the baseline" if own.trusted else "the operator's policy"
        return f"repository policy {own.origin}: could not be used; {instead} applies"
    if own.trusted:
        line = (
            f"repository policy {own.origin}: applied in full (a checkout scanned without --policy)"
        )
        loosened = [c.key for c in own.loosened]
        if loosened:
            line += f"; it loosens {_keys(loosened)}"
        return line
    applied = [c.key for c in own.changes if c.applied]
    refused = [c.key for c in own.refused]
    line = f"repository policy {own.origin}: over the operator's policy"
    parts = []
    if applied:
        parts.append(f"applied {_keys(applied)}")
    if refused:
        parts.append(f"refused {_keys(refused)}")
    return line + (": " + "; ".join(parts) if parts else ": changes nothing")


def estate_note(own: RepositoryPolicy) -> str:
    """The same for one row of an estate: what was refused, or why the file was unusable."""
    if own.error is not None:
        return f"{own.origin}: could not be used: {own.error}"
    refused = own.refused
    applied = len(own.changes) - len(refused)
    text = f"{own.origin}: {applied} applied, {len(refused)} refused"
    if refused:
        text += ": " + "; ".join(_refusal(c) for c in refused[:MAX_KEYS])
        if len(refused) > MAX_KEYS:
            text += f"; and {len(refused) - MAX_KEYS} more"
    return text


def _refusal(change: PolicyChange) -> str:
    # The reason in full is in the repository's problems; a row names the permission it lacked.
    return f"{change} (needs '{change.needs}')" if change.needs else f"{change} ({change.reason})"
