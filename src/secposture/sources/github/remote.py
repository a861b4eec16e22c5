"""The GitHub repository a checkout was cloned from, so a token can decide its settings controls."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from secposture.sources.local import _git

# https://[user[:secret]@]host/owner/name(.git), ssh://git@host[:port]/owner/name, git@host:owner/name
_REMOTE = re.compile(
    r"^(?:(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:@]+)(?::\d+)?/"
    r"|(?:[^@/:]+@)?(?P<scp_host>[^/:@]+):)"
    r"(?P<owner>[A-Za-z0-9_.-]{1,100})/(?P<name>[A-Za-z0-9_.-]{1,100}?)(?:\.git)?/?$"
)
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")


def web_host(api_url: str) -> str:
    """github.com for api.github.com; HOST for an Enterprise Server's https://HOST/api/v3."""
    host = urlsplit(api_url).hostname or ""
    return "github.com" if host == "api.github.com" else host


def parse_remote(url: str, host: str) -> tuple[str, str] | None:
    """(owner, name) when `url` points at a repository on `host`, else None."""
    match = _REMOTE.match(url.strip())
    if match is None:
        return None
    found = (match.group("host") or match.group("scp_host") or "").lower()
    if found != host.lower():
        return None
    return match.group("owner"), match.group("name")


class Remote(NamedTuple):
    owner: str
    name: str
    host: str
    remote: str = ""  # the git remote it was read from ("origin"), to say where a name came from

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def checkout_remote(root: Path, *hosts: str) -> Remote | None:
    """The checkout's repository on the first of `hosts` it has a remote on (`origin` first,
    then the others), from one read of its git config; None when it has none."""
    try:
        # The checkout's own config file only: an include.path could name another
        # repository's config, and so the repository whose settings the token reads.
        proc = _git(
            root, "config", "--local", "--no-includes", "--get-regexp", r"^remote\..*\.url$"
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    remotes: dict[str, str] = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        key, _, url = line.partition(" ")
        remotes[key.removeprefix("remote.").removesuffix(".url")] = url
    ordered = [("origin", remotes.pop("origin"))] if "origin" in remotes else []
    ordered.extend(remotes.items())
    for host in hosts:
        for remote, url in ordered:
            found = parse_remote(url, host)
            if found is not None:
                return Remote(found[0], found[1], host, remote)
    return None


def looks_like_repository_name(text: str) -> bool:
    """OWNER/REPO as GitHub allows it (a path that does not exist may be meant as one)."""
    return _NAME.match(text) is not None
