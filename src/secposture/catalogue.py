"""The data catalogues shipped in `secposture/data/`: controls, languages, tools, ecosystems.

They are data so that a team can extend them in its policy file without changing code.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """A catalogue file by name (without `.toml`), parsed once per process."""
    text = resources.files("secposture.data").joinpath(f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)
