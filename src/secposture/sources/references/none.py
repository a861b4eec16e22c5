"""No way to read other repositories: every reference is unread, saying what would read it."""

from __future__ import annotations

from collections.abc import Sequence

from secposture.sources.references.interface import UNREAD, Fetched, Reference, ReferenceReader

HOW_TO_READ = (
    "scan with a GitHub token (GITHUB_TOKEN or GH_TOKEN) to read it from GitHub, or use "
    "--offline once a scan with a token has filled the cache"
)


class NoReferences(ReferenceReader):
    def __init__(self, why: str = "no GitHub token was given", how: str = HOW_TO_READ) -> None:
        self.why = why
        self.how = how

    def read(self, references: Sequence[Reference]) -> list[Fetched]:
        return [Fetched(r, UNREAD, why=self.why, how=self.how) for r in references]
