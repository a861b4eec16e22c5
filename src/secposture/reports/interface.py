"""The report stage: one module per format, each with `render(report, options) -> str`.

Here only the renderers' protocol: the formats, their options and how a format's render function
is found. What every format needs to say the same thing (counts, the headline, the order of
controls, the static-analysis matrix, `clean`) is in common.py.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

from secposture.model import ScanReport

FORMATS = ("terminal", "json", "sarif", "markdown", "html")


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    width: int | None = None
    verbose: bool = False


class Renderer(Protocol):
    def __call__(self, report: ScanReport, options: RenderOptions) -> str: ...


def renderer(fmt: str) -> Renderer:
    """The render function of a format; its module is imported only when that format is asked for."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f"secposture.reports.{fmt}_format")
    render: Renderer = module.render
    return render
