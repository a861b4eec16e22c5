"""A snapshot held in memory: files fetched ahead (the GitHub source) or given directly (tests).

Texts are decoded and limited exactly as the local source does, so probes answer the same way
whichever source read the files.
"""

from __future__ import annotations

from collections.abc import Mapping

from secposture.model import Target
from secposture.sources.interface import (
    DEFAULT_MAX_FILE_BYTES,
    NO_SETTINGS,
    Settings,
    Snapshot,
    UnreadableFile,
    decode_text,
    too_large,
)


class MemorySnapshot(Snapshot):
    def __init__(
        self,
        files: Mapping[str, str | bytes],
        target: Target | None = None,
        *,
        settings: Settings = NO_SETTINGS,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self.target = target or Target(name="memory", source="memory")
        self.paths = tuple(sorted(files))
        self.settings = settings
        self.max_file_bytes = max_file_bytes
        self._files = dict(files)

    def read_text(self, path: str) -> str:
        data = self._files.get(path)
        if data is None:
            raise UnreadableFile("is not in the snapshot")
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if len(raw) > self.max_file_bytes:
            raise UnreadableFile(too_large(len(raw), self.max_file_bytes))
        return data if isinstance(data, str) else decode_text(raw)
