"""What the web app holds for watching: the webhook's settings and the worker to wake."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secposture.watch.interface import WatchError, WatchSettings

if TYPE_CHECKING:
    from secposture.register.database import Database
    from secposture.watch.worker import Watcher


@dataclass
class WatchState:
    settings: WatchSettings
    watcher: Watcher | None = None


def start_watching(
    database: Database,
    settings: WatchSettings,
    *,
    api_url: str,
    policy_file: Path | None = None,
    app_id: str | None = None,
    app_key: Path | None = None,
    installation_id: str | None = None,
    worker: bool = True,
) -> WatchState:
    """What `serve --watch ORG` runs: the webhook's settings and (with `worker`) a worker whose
    GitHub credentials are those `scan --org` would use, checked now so a missing token fails at
    start-up rather than at the first delivery."""
    from secposture.policy import default_policy
    from secposture.scan import read_policy_file
    from secposture.sources.github.auth import InstallationTarget, credentials_from_env
    from secposture.sources.github.transport import GitHubClient
    from secposture.watch.worker import Watcher

    if not settings.organisation:
        raise WatchError("--watch needs the organisation to watch")
    if not worker:
        return WatchState(settings)
    policy = read_policy_file(policy_file) if policy_file is not None else default_policy()
    credentials = credentials_from_env(
        app_id=app_id,
        private_key_file=app_key,
        installation_id=installation_id,
        target=InstallationTarget(settings.organisation, None),
    )

    def client() -> GitHubClient:
        return GitHubClient(api_url, credentials, concurrency=4)

    return WatchState(settings, Watcher(database, settings, policy, client))
