"""How the command line reaches GitHub: base URL and credentials options. Light on purpose: a
scan asks `have_credentials` on every run, before deciding to load the GitHub client at all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class GitHubOptions:
    api_url: str
    app_id: str | None
    app_key: Path | None
    installation_id: str | None
    concurrency: int


def api_url_from(option: str | None) -> str:
    """--github-url, else GITHUB_API_URL (set by GitHub Actions, also on Enterprise Server)."""
    return (option or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")


def have_credentials(options: GitHubOptions) -> bool:
    """Whether a token or an App is configured: a checkout's scan then asks GitHub for settings."""
    env = os.environ
    return bool(
        options.app_id
        or env.get("SECPOSTURE_APP_ID")
        or env.get("GITHUB_TOKEN", "").strip()
        or env.get("GH_TOKEN", "").strip()
    )
