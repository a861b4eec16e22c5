"""What the watcher's parts hand each other: a rescan request and the watcher's settings."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from secposture import redaction
from secposture.errors import SecpostureError

ENV_WEBHOOK_SECRET = "SECPOSTURE_GITHUB_WEBHOOK_SECRET"  # noqa: S105  # nosec B105 - a name
ENV_ORGANISATION = "SECPOSTURE_WATCH_ORG"
ENV_FULL_RESCAN_HOURS = "SECPOSTURE_WATCH_FULL_RESCAN_HOURS"
MIN_SECRET_CHARS = 20
# GitHub's own rules for an owner's login and a repository's name.
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


class WatchError(SecpostureError):
    """The watcher's configuration cannot work; the message names the setting."""


@dataclass(frozen=True)
class RescanRequest:
    """Rescan `repository` ("owner/name", as GitHub spells it) because of `reason` (the event,
    or "schedule"); `detail` says what happened, for the dashboard."""

    repository: str
    reason: str
    detail: str
    delivery: str | None = None


def repository_name(owner: object, name: object) -> str | None:
    """ "owner/name" when both are names GitHub could have given, else None."""
    if not isinstance(owner, str) or not isinstance(name, str):
        return None
    if not _OWNER.fullmatch(owner) or not _NAME.fullmatch(name) or name in (".", ".."):
        return None
    return f"{owner}/{name}"


@dataclass(frozen=True)
class WatchSettings:
    """How the watcher runs. `webhook_secret` empty: every delivery is refused (403)."""

    organisation: str = ""
    webhook_secret: str = field(default="", repr=False)
    # Deliveries for one repository within this wait are one rescan (a push of many commits,
    # a ruleset edited field by field).
    settle: timedelta = timedelta(seconds=10)
    full_rescan_every: timedelta | None = timedelta(hours=24)
    # A claimed job not finished after this is taken up again (its worker died).
    claim_expires: timedelta = timedelta(minutes=30)
    replay_memory: timedelta = timedelta(days=7)
    retry_after: timedelta = timedelta(minutes=5)
    max_attempts: int = 3
    poll_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> WatchSettings:
        values = os.environ if env is None else env
        secret = values.get(ENV_WEBHOOK_SECRET, "").strip()
        if secret:
            if len(secret) < MIN_SECRET_CHARS:
                raise WatchError(
                    f"{ENV_WEBHOOK_SECRET} must be at least {MIN_SECRET_CHARS} characters (the "
                    "GitHub App's webhook secret; e.g. python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))')"
                )
            redaction.register(secret)
        hours = values.get(ENV_FULL_RESCAN_HOURS, "").strip()
        every: timedelta | None = timedelta(hours=24)
        if hours:
            if hours.lower() in ("0", "off", "never"):
                every = None
            else:
                try:
                    every = timedelta(hours=float(hours))
                except ValueError:
                    raise WatchError(
                        f"{ENV_FULL_RESCAN_HOURS}: {hours[:20]!r} is not a number of hours (or off)"
                    ) from None
                if every < timedelta(hours=1):
                    raise WatchError(f"{ENV_FULL_RESCAN_HOURS}: at least 1 hour")
        settings = cls(
            organisation=values.get(ENV_ORGANISATION, "").strip(),
            webhook_secret=secret,
            full_rescan_every=every,
        )
        return _replace(settings, overrides)


def _replace(settings: WatchSettings, overrides: Mapping[str, object]) -> WatchSettings:
    from dataclasses import replace

    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(settings, **given)  # type: ignore[arg-type]
