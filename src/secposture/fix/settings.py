"""`secposture fix --apply-settings`: switch on the repository settings the baseline asks for.

Read first (the same reads the scan makes), then change only what is off: vulnerability alerts,
Dependabot security updates (which need the alerts), secret scanning with push protection, and a
ruleset that requires an approving review on the default branch unless a rule already does.
Each setting gets one outcome saying exactly what changed, what was already on, or why it could
not be changed; a refused write (403/404 for a token without admin access, 422 for a feature the
repository's plan lacks) is an outcome, never an exception. With `dry_run` nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from secposture.errors import SecpostureError
from secposture.policy import default_policy
from secposture.sources.github.fetch import GitHubFetcher
from secposture.sources.github.transport import GitHubClient, RestResponse
from secposture.sources.interface import Observation, ReviewRequirement, Settings

VULNERABILITY_ALERTS = "vulnerability-alerts"
SECURITY_UPDATES = "dependabot-security-updates"
SECRET_SCANNING = "secret-scanning"  # noqa: S105  # nosec B105 - a setting's name
PUSH_PROTECTION = "secret-scanning-push-protection"
REVIEW_REQUIRED = "review-required"
SETTINGS = (
    VULNERABILITY_ALERTS,
    SECURITY_UPDATES,
    SECRET_SCANNING,
    PUSH_PROTECTION,
    REVIEW_REQUIRED,
)

CHANGED = "changed"
ALREADY = "already"
FAILED = "failed"
WOULD_CHANGE = "would-change"

RULESET_NAME = "secposture: require a pull request review"
REQUIRED_APPROVALS = 1
NEEDS_ADMIN = (
    "needs admin access to the repository (an admin's token, or a GitHub App with the "
    "Administration: write permission)"
)
REFUSED_STATUSES = (403, 404, 409, 422)
_LABELS = {
    VULNERABILITY_ALERTS: "vulnerability alerts",
    SECURITY_UPDATES: "Dependabot security updates",
    SECRET_SCANNING: "secret scanning",
    PUSH_PROTECTION: "secret scanning push protection",
}
_SECURITY_FIELDS = {
    SECRET_SCANNING: "secret_scanning",
    PUSH_PROTECTION: "secret_scanning_push_protection",
}


@dataclass(frozen=True)
class SettingOutcome:
    setting: str  # one of SETTINGS
    status: str  # "changed" | "already" | "failed" | "would-change"
    detail: str  # what changed, what was found, or why it could not be changed


def apply_settings(
    client: GitHubClient, owner: str, name: str, *, dry_run: bool = False
) -> list[SettingOutcome]:
    """Turn on what is off, in dependency order; one outcome per setting in SETTINGS.

    Raises GitHubError (a SecpostureError) only when the repository cannot be read at all."""
    current = GitHubFetcher(client, default_policy()).fetch_settings(owner, name)
    writer = _SettingsWriter(client, owner, name, dry_run)
    alerts = writer.switch_on(
        VULNERABILITY_ALERTS, current.vulnerability_alerts, "vulnerability-alerts"
    )
    outcomes = [alerts, writer.security_updates(current, alerts)]
    outcomes.extend(writer.secret_scanning(current))
    outcomes.append(writer.review(current.review))
    return outcomes


def _state(observation: Observation | None) -> bool | None:
    """True on, False off, None not visible to this token."""
    return None if observation is None else observation.enabled


def _printable(text: str, limit: int = 300) -> str:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(cleaned.split())[:limit]


def _github_message(response: RestResponse) -> str:
    body = response.json
    message = body.get("message") if isinstance(body, Mapping) else None
    return _printable(message) if isinstance(message, str) else ""


class _SettingsWriter:
    def __init__(self, client: GitHubClient, owner: str, name: str, dry_run: bool) -> None:
        self.client = client
        self.dry_run = dry_run
        self.path = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

    # -- the settings --------------------------------------------------------------------------

    def switch_on(
        self, setting: str, observation: Observation | None, suffix: str
    ) -> SettingOutcome:
        """A setting turned on by PUT /repos/{owner}/{repo}/{suffix} (204 when done)."""
        label = _LABELS[setting]
        state = _state(observation)
        if state:
            return SettingOutcome(setting, ALREADY, f"{label} already on")
        path = f"{self.path}/{suffix}"
        if self.dry_run:
            return SettingOutcome(setting, WOULD_CHANGE, self._would(label, state, f"PUT {path}"))
        refusal = self._write("PUT", path, None)
        if isinstance(refusal, str):
            return SettingOutcome(setting, FAILED, f"{label} not turned on: {refusal}")
        return SettingOutcome(setting, CHANGED, f"{label} turned on (PUT {path})")

    def security_updates(self, current: Settings, alerts: SettingOutcome) -> SettingOutcome:
        if _state(current.dependabot_security_updates):
            return SettingOutcome(
                SECURITY_UPDATES, ALREADY, "Dependabot security updates already on"
            )
        if alerts.status == FAILED:
            return SettingOutcome(
                SECURITY_UPDATES,
                FAILED,
                "Dependabot security updates not turned on: they need vulnerability alerts, "
                "which could not be turned on",
            )
        return self.switch_on(
            SECURITY_UPDATES, current.dependabot_security_updates, "automated-security-fixes"
        )

    def secret_scanning(self, current: Settings) -> list[SettingOutcome]:
        """Secret scanning and push protection in one PATCH of security_and_analysis; GitHub's
        answer shows whether each took effect (a private repository may lack the feature)."""
        states = {
            SECRET_SCANNING: _state(current.secret_scanning),
            PUSH_PROTECTION: _state(current.secret_scanning_push_protection),
        }
        wanted = [s for s, on in states.items() if not on]
        outcomes = {
            s: SettingOutcome(s, ALREADY, f"{_LABELS[s]} already on")
            for s, on in states.items()
            if on
        }
        if wanted and self.dry_run:
            for setting in wanted:
                outcomes[setting] = SettingOutcome(
                    setting,
                    WOULD_CHANGE,
                    self._would(_LABELS[setting], states[setting], f"PATCH {self.path}"),
                )
        elif wanted:
            body = {
                "security_and_analysis": {
                    _SECURITY_FIELDS[s]: {"status": "enabled"} for s in wanted
                }
            }
            result = self._write("PATCH", self.path, body)
            for setting in wanted:
                outcomes[setting] = self._patched(setting, result)
        return [outcomes[s] for s in (SECRET_SCANNING, PUSH_PROTECTION)]

    def review(self, review: ReviewRequirement | None) -> SettingOutcome:
        if review is not None:
            enforcing = [r for r in review.rules if r.active and r.required_approvals >= 1]
            if enforcing:
                rule = enforcing[0]
                count = rule.required_approvals
                return SettingOutcome(
                    REVIEW_REQUIRED,
                    ALREADY,
                    f"{rule.kind} '{_printable(rule.name, 100)}' already requires {count} "
                    f"approving review{'s' if count != 1 else ''} on {review.branch}",
                )
            ours = [r for r in review.rules if r.kind == "ruleset" and r.name == RULESET_NAME]
            if ours:
                # Someone turned our ruleset down on purpose, perhaps: say so, do not fight it.
                return SettingOutcome(
                    REVIEW_REQUIRED,
                    FAILED,
                    f"ruleset '{RULESET_NAME}' exists but is not enforced or requires no "
                    "approving review; left as it is: set its enforcement to active and its "
                    "required approvals to 1 or more in the repository's rules settings",
                )
        visible = review is not None and review.visible
        target = f"POST {self.path}/rulesets"
        label = f"ruleset '{RULESET_NAME}' (1 approving review on the default branch)"
        if self.dry_run:
            seen = False if visible else None
            detail = self._would(label, seen, target, verb="create")
            return SettingOutcome(REVIEW_REQUIRED, WOULD_CHANGE, detail)
        result = self._write("POST", f"{self.path}/rulesets", _review_ruleset())
        if isinstance(result, str):
            return SettingOutcome(REVIEW_REQUIRED, FAILED, f"ruleset not created: {result}")
        number = result.json.get("id") if isinstance(result.json, Mapping) else None
        return SettingOutcome(
            REVIEW_REQUIRED,
            CHANGED,
            f"created ruleset '{RULESET_NAME}'{f' (id {number})' if number else ''}: pull "
            f"requests to the default branch need {REQUIRED_APPROVALS} approving review, stale "
            "approvals are dismissed on push, no bypass actors, enforcement active",
        )

    # -- helpers -------------------------------------------------------------------------------

    def _would(self, label: str, state: bool | None, call: str, verb: str = "turn on") -> str:
        if state is None:
            return (
                f"would try to {verb} {label} ({call}); the current setting is not visible to "
                f"this token, and changing it {NEEDS_ADMIN}"
            )
        return f"would {verb} {label} ({call})"

    def _write(self, method: str, path: str, body: Any) -> RestResponse | str:
        """The answer to a write, or why it was refused (a reason a user can act on)."""
        try:
            response = self.client.rest(method, path, body, allow=REFUSED_STATUSES)
        except SecpostureError as exc:
            return f"{exc}"
        if response.status in (403, 404):
            message = _github_message(response)
            if "archived" in message.lower():
                return f"the repository is archived, so read-only (GitHub: {message})"
            said = f": {message}" if message else ""
            return f"{NEEDS_ADMIN} (GitHub answered {response.status}{said})"
        if response.status in (409, 422):
            message = _github_message(response) or "no reason given"
            return f"GitHub refused the change ({response.status}: {message})"
        return response

    def _patched(self, setting: str, result: RestResponse | str) -> SettingOutcome:
        label = _LABELS[setting]
        if isinstance(result, str):
            return SettingOutcome(setting, FAILED, f"{label} not turned on: {result}")
        block = (
            result.json.get("security_and_analysis") if isinstance(result.json, Mapping) else None
        )
        entry = block.get(_SECURITY_FIELDS[setting]) if isinstance(block, Mapping) else None
        status = entry.get("status") if isinstance(entry, Mapping) else None
        if status == "enabled":
            return SettingOutcome(setting, CHANGED, f"{label} turned on (PATCH {self.path})")
        if status is None:
            return SettingOutcome(
                setting,
                CHANGED,
                f"{label}: GitHub accepted the change (PATCH {self.path}) but its answer does not "
                "show the setting; scan again to confirm",
            )
        return SettingOutcome(
            setting,
            FAILED,
            f"{label} still {_printable(str(status), 40)} after GitHub accepted the change: "
            "private repositories need GitHub Secret Protection (Advanced Security) for it",
        )


def _review_ruleset() -> dict[str, Any]:
    """A branch ruleset on the default branch: one approving review, stale approvals dismissed,
    no bypass actors (admins included), enforced."""
    return {
        "name": RULESET_NAME,
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": [
            {
                "type": "pull_request",
                "parameters": {
                    "required_approving_review_count": REQUIRED_APPROVALS,
                    "dismiss_stale_reviews_on_push": True,
                    "require_code_owner_review": False,
                    "require_last_push_approval": False,
                    "required_review_thread_resolution": False,
                },
            }
        ],
    }
