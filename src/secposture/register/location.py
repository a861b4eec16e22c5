"""Where the register is, without importing the database code: a scan asks on every run whether
there is a register to read."""

from __future__ import annotations

import os
from pathlib import Path

ENV_URL = "SECPOSTURE_DATABASE_URL"


def default_path() -> Path:
    """The embedded register: $XDG_DATA_HOME/secposture/register.db (XDG ignores relative paths)."""
    base = os.environ.get("XDG_DATA_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "secposture" / "register.db"


def register_configured(db: str | None) -> bool:
    """A register is named (--db, SECPOSTURE_DATABASE_URL) or the embedded one exists."""
    return bool(db or os.environ.get(ENV_URL)) or default_path().exists()
