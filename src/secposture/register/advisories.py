"""How the register names a security advisory, so that a waiver or an accepted risk exempts one
Dependabot alert rather than the whole `vulnerabilities-patched-in-time` control
(docs/vulnerabilities-patched-in-time.md).

The convention, chosen so that no new column is needed and records written by hand work too:

- A waiver of `vulnerabilities-patched-in-time` whose reason names GHSA ids waives those
  advisories only, in the waiver's repository (or every repository of its product), until it
  expires. A waiver of the control that names no GHSA id waives the whole control, as any
  waiver does.
- An accepted risk waives an advisory in a repository until its acceptance expires when its
  title, cause, event or effect, or a security issue linked to it, names both the GHSA id and
  the repository (OWNER/REPO). `issue raise --from-alert` writes both into the issue's
  description, and `issue cannot-fix` carries the description into the risk's cause.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from secposture.register.database import Tx
from secposture.register.models import Risk
from secposture.register.products import products_for_repository
from secposture.sources.alerts import GHSA_ID, normal_ghsa

CONTROL = "vulnerabilities-patched-in-time"


@dataclass(frozen=True)
class AdvisoryExemption:
    """An advisory the register exempts in one repository, until a day (inclusive)."""

    ghsa: str  # as GitHub writes it (sources/alerts.normal_ghsa)
    until: date
    origin: str  # "register waiver 4", "register risk 12 (accepted by ...)"


def advisories_named(text: str) -> list[str]:
    """The GHSA ids a text names, as GitHub writes them, each once."""
    found: list[str] = []
    for match in GHSA_ID.finditer(text or ""):
        ghsa = normal_ghsa(match.group(0))
        if ghsa not in found:
            found.append(ghsa)
    return found


def waives_advisories(control: str, reason: str) -> bool:
    """Whether a waiver exempts named advisories rather than its whole control."""
    return control == CONTROL and bool(advisories_named(reason))


def names_repository(text: str, repository: str) -> bool:
    """`text` names OWNER/REPO as a whole name (not as part of a longer one), any case."""
    pattern = r"(?<![\w.-])" + re.escape(repository.strip().lower()) + r"(?![\w/-]|\.\w)"
    return re.search(pattern, text.lower()) is not None


def advisory_exemptions(
    tx: Tx, repository: str, waivers: Iterable[tuple[str, str, date, str]]
) -> list[AdvisoryExemption]:
    """The advisories exempted in `repository`: from its waivers (control, reason, expiry,
    origin) and from accepted risks of the products that own it. Expired ones are included:
    the probe says an exemption has lapsed."""
    out: list[AdvisoryExemption] = []
    for control, reason, expires, origin in waivers:
        if waives_advisories(control, reason):
            out.extend(AdvisoryExemption(g, expires, origin) for g in advisories_named(reason))
    product_ids = [p.id for p in products_for_repository(tx, repository)]
    if not product_ids:
        return out
    risks = tx.session.scalars(
        select(Risk).where(
            Risk.status == "accepted",
            Risk.product_id.in_(product_ids),
            Risk.expires_on.is_not(None),
        )
    )
    for risk in risks:
        texts = [risk.title, risk.cause, risk.event, risk.effect]
        texts += [f"{issue.description}\n{issue.environment}" for issue in risk.issues]
        text = "\n".join(texts)
        if risk.expires_on is None or not names_repository(text, repository):
            continue
        origin = f"register {risk.label} (accepted by {risk.accepted_by})"
        out.extend(AdvisoryExemption(g, risk.expires_on, origin) for g in advisories_named(text))
    return out
