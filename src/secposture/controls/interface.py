"""The controls stage: probe findings in, one ControlResult per enabled control out."""

from __future__ import annotations

from typing import Protocol

from secposture.facts.interface import Facts
from secposture.model import ControlResult


class Evaluator(Protocol):
    def __call__(self, facts: Facts) -> list[ControlResult]: ...
