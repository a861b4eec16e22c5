"""secposture: the security baseline of a team's process, checkable, fixable and visible."""

__version__ = "0.1.0"
