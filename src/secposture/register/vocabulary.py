"""The register's vocabularies (vocabulary.toml): stdlib only, so the command line can offer them
as choices without importing the database layer."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def _data() -> dict[str, Any]:
    text = resources.files("secposture.register").joinpath("vocabulary.toml").read_text("utf-8")
    return tomllib.loads(text)


def triggers() -> dict[str, str]:
    """The five major-change triggers: key -> title."""
    return {key: entry["title"] for key, entry in _data()["triggers"].items()}


def choices(name: str) -> tuple[str, ...]:
    """One of the [lists] of vocabulary.toml (classifications, treatments, schemes, ...);
    "triggers" gives the trigger keys."""
    if name == "triggers":
        return tuple(triggers())
    return tuple(_data()["lists"][name])
