"""Where GitHub looks for a repository's security policy (SECURITY.md).

A fact shared by the probe that looks for the policy and the fix that writes one, so that both
agree on which file counts.
"""

from __future__ import annotations

# GitHub shows the first of these it finds; names are matched case-insensitively, as GitHub does.
PLACES = ("security.md", ".github/security.md", "docs/security.md", "security.rst", "security.txt")
FOLDERS = frozenset(p.rpartition("/")[0] for p in PLACES)
