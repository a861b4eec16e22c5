"""Markdown and text files: created when missing; an existing one is replaced only with --force."""

from __future__ import annotations

from string import Template

from secposture.facts import generated
from secposture.fix import recipes
from secposture.fix.generators import Workspace


def render(name: str, **values: str) -> str:
    """A shipped template with `$name` placeholders filled (a missing value is an error);
    `$generated_by` is the marker every generated file carries (docs/generated-files.md)."""
    return Template(recipes.template_text(name)).substitute(
        {"generated_by": generated.marker(), **values}
    )


def create_or_replace(
    ws: Workspace,
    control: str,
    path: str,
    text: str,
    what: str,
    *,
    existing: str | None = None,
    why_exists: str = "",
) -> None:
    """Plan `path` (new) with `text`; when `existing` (a file doing the same job) is there,
    replace it with --force, else say why it was left alone."""
    if existing is None:
        ws.write(path, text, control, what)
        return
    if not ws.force:
        detail = f" ({why_exists})" if why_exists else ""
        ws.skip(
            control, f"{existing} exists{detail}: not replaced; --force replaces it with {what}"
        )
        return
    usable, _ = ws.existing_text(existing, control)
    if usable:
        ws.write(existing, text, control, what, replace=True)
