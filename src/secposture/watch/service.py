"""What the web app holds for watching: the webhook's settings and the worker to wake."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from secposture.watch.interface import WatchSettings

if TYPE_CHECKING:
    from secposture.watch.worker import Watcher


@dataclass
class WatchState:
    settings: WatchSettings
    watcher: Watcher | None = None
