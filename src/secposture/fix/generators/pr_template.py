"""A pull request template with a security checklist that asks about the OWASP Top 10.

Where the repository has no PR template, one is created. Where it has its own (Markdown) without a
security checklist, the checklist section is appended to it, in the template's own style (its
heading level, list marker and line endings), and nothing of it is changed; a second run finds
the checklist and adds nothing. An issue-form-style template (YAML) is left alone, with why.
"""

from __future__ import annotations

import re
from collections import Counter

from secposture.facts import templates
from secposture.fix import recipes
from secposture.fix.generators import Workspace
from secposture.fix.generators.files import create_or_replace, render
from secposture.fix.generators.git_add import make_addable

CONTROL = "pr-template-security"
CONTROLS = (CONTROL,)
SECTION = "## Security checklist"
_HEADING = re.compile(r"^(#{1,6})[ \t]+\S", re.MULTILINE)
_LIST_ITEM = re.compile(r"^[ \t]*([-*+])[ \t]+", re.MULTILINE)
_WHAT = (
    "a pull request template with a security checklist (OWASP Top 10, injection, "
    "authorisation, secrets, dependencies, tests, ADRs)"
)


def checklist_section() -> str:
    """The shipped template's security checklist section, from its heading to the end."""
    text = recipes.template_text("pull_request_template.md")
    start = text.find(SECTION)
    return text[start:] if start >= 0 else text


def in_the_style_of(section: str, template: str) -> str:
    """`section` written as `template` writes its headings and lists."""
    levels = Counter(len(m.group(1)) for m in _HEADING.finditer(template))
    if levels:
        # The level the template's sections use: its most common, the deeper on a tie.
        level = max(levels, key=lambda n: (levels[n], n))
        section = re.sub(r"^##(?=[ \t])", "#" * level, section, flags=re.MULTILINE)
    markers = Counter(m.group(1) for m in _LIST_ITEM.finditer(template))
    if markers:
        marker = markers.most_common(1)[0][0]
        section = re.sub(r"^-(?= \[ \])", marker, section, flags=re.MULTILINE)
    return section


def appended(template: str, section: str) -> str:
    """The template with the section after it, a blank line between, in its line endings."""
    nl = "\r\n" if "\r\n" in template else "\n"
    body = in_the_style_of(section, template).replace("\n", nl)
    head = template.rstrip("\r\n \t")
    return (head + nl + nl if head else "") + body.rstrip("\r\n") + nl


def generate(ws: Workspace, targets: frozenset[str]) -> None:
    found = ws.facts().get(templates.collect).pr
    if any(templates.security_checklist_item(t) is not None for t in found):
        return
    if not found:
        path = str(recipes.files()["pr_template"])
        create_or_replace(ws, CONTROL, path, render("pull_request_template.md"), _WHAT)
        make_addable(ws, path, CONTROL)
        return
    section = checklist_section()
    for template in found:
        if template.form or not template.path.lower().endswith((".md", ".markdown", ".txt")):
            ws.skip(
                CONTROL,
                f"{template.path} is not a Markdown template: add a checklist item such as "
                "`- [ ] I have considered which OWASP Top 10 risks this change touches` by hand",
            )
            continue
        usable, text = ws.existing_text(template.path, CONTROL)
        if not usable or text is None:
            continue
        ws.write(
            template.path,
            appended(text, section),
            CONTROL,
            "appended a security checklist section (OWASP Top 10, injection, authorisation, "
            "secrets, dependencies, tests, ADRs); the template's own content is kept",
        )
