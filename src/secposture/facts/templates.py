"""Issue and pull request templates as lines of text with line numbers.

Markdown templates give each line; issue forms (YAML) give the texts a reporter sees: the form's
name, description and title, and each body field's label, description, placeholder, value and
options. Checkbox items (`- [ ]`, or an issue form's checkbox) are marked, for checklists. A
template `secposture fix` generated carries the `generated_by` marker (facts/generated.py) until a
person adopts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from secposture import catalogue
from secposture.facts import generated
from secposture.facts.interface import Facts
from secposture.facts.parsing import line_of, load_yaml

ISSUE = "issue"
PR = "pull request"
_MAX_LINE = 2000  # text past this on one line is not read for questions
_MAX_FIELDS = 500

_CHECKBOX = re.compile(r"[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+\[[ xX]\][ \t]*(.*)")
_FORM_TEXT_KEYS = ("label", "description", "placeholder", "value")


@dataclass(frozen=True)
class TextLine:
    line: int | None
    text: str
    checkbox: bool = False


@dataclass
class Template:
    path: str
    kind: str  # ISSUE or PR
    form: bool = False
    lines: list[TextLine] = field(default_factory=list)
    readable: bool = True
    generated: int | None = None  # the line of the generated_by marker: fix's, not yet adopted


@dataclass
class Templates:
    issue: list[Template] = field(default_factory=list)
    pr: list[Template] = field(default_factory=list)


@dataclass(frozen=True)
class Match:
    """A template line that asks about security, and whether the template names the OWASP Top 10."""

    template: Template
    line: TextLine
    owasp: TextLine | None


@cache
def _data() -> dict[str, Any]:
    return catalogue.load("templates")


@cache
def _regex(key: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in _data()[key]), re.IGNORECASE)


def asks_security(text: str) -> bool:
    """A line that asks about security (not one that only sends vulnerability reports elsewhere)."""
    text = text[:_MAX_LINE]
    return bool(_regex("security").search(text)) and not _regex("redirects").search(text)


def asks_about_the_change(text: str) -> bool:
    """A ticket template's line that asks about the change's security: not a disclaimer about
    what to leave out of the ticket, nor an invitation to a chat channel."""
    if not asks_security(text):
        return False
    return "?" in text or not _regex("not_questions").search(text[:_MAX_LINE])


def names_owasp_top10(text: str) -> bool:
    return bool(_regex("owasp_top10").search(text[:_MAX_LINE]))


# --- parsing -------------------------------------------------------------------------------------


def markdown_lines(text: str) -> list[TextLine]:
    out = []
    for i, raw in enumerate(text.splitlines(), start=1):
        line = raw[:_MAX_LINE]
        box = _CHECKBOX.fullmatch(line)
        out.append(TextLine(i, box.group(1) if box else line, checkbox=box is not None))
    return out


def _text(node: Any) -> str | None:
    if isinstance(node, str):
        return node
    if isinstance(node, int | float) and not isinstance(node, bool):
        return str(node)
    return None


def _add(out: list[TextLine], node: Any, key: str | int, *, checkbox: bool = False) -> None:
    """Add node[key] when it is text; the caller knows the key or index exists."""
    value = _text(node[key]) if isinstance(node, dict | list) else None  # type: ignore[index]
    if value is None:
        return
    line = line_of(node, key)
    parts = value.splitlines()
    if len(parts) <= 1:
        out.append(TextLine(line, value[:_MAX_LINE], checkbox))
        return
    # A block scalar (`|`): one text line per source line, which starts below the key.
    for i, part in enumerate(parts[:_MAX_FIELDS]):
        out.append(TextLine(None if line is None else line + 1 + i, part[:_MAX_LINE], checkbox))


def _options(out: list[TextLine], options: Any, checkboxes: bool) -> None:
    if not isinstance(options, list):
        return
    for i, option in enumerate(options[:_MAX_FIELDS]):
        if isinstance(option, dict) and "label" in option:
            _add(out, option, "label", checkbox=checkboxes)
        else:
            _add(out, options, i, checkbox=checkboxes)


def form_lines(doc: Any) -> list[TextLine]:
    """The texts of a YAML issue form, with lines; anything of the wrong shape is skipped."""
    out: list[TextLine] = []
    if not isinstance(doc, dict):
        return out
    for key in ("name", "description", "title"):
        if key in doc:
            _add(out, doc, key)
    body = doc.get("body")
    if not isinstance(body, list):
        return out
    for item in body[:_MAX_FIELDS]:
        attrs = item.get("attributes") if isinstance(item, dict) else None
        if not isinstance(attrs, dict):
            continue
        for key in _FORM_TEXT_KEYS:
            if key in attrs:
                _add(out, attrs, key)
        _options(out, attrs.get("options"), checkboxes=item.get("type") == "checkboxes")
    return out


def _read(facts: Facts, path: str, kind: str) -> Template:
    form = path.lower().endswith((".yml", ".yaml"))
    template = Template(path, kind, form=form)
    if form:
        doc = load_yaml(facts, path)
        template.readable = doc is not None
        template.lines = form_lines(doc)
    else:
        text = facts.read(path)
        template.readable = text is not None
        template.lines = markdown_lines(text or "")
    if template.readable:
        template.generated = generated.marker_line(facts.read(path) or "")
    return template


def _is_pr(lower: str) -> bool:
    data = _data()
    folder, _, name = lower.rpartition("/")
    return lower in data["pr_templates"] or (
        folder in data["pr_template_folders"] and name.endswith(".md")
    )


def _is_issue(lower: str) -> bool:
    data = _data()
    folder, _, name = lower.rpartition("/")
    if lower in data["issue_templates"]:
        return True
    return (
        folder in data["issue_template_folders"]
        and name not in data["not_templates"]
        and name.endswith((".md", ".yml", ".yaml"))
    )


@cache
def _folders() -> frozenset[str]:
    """The (lower-case) folders templates can be in: only their files need testing."""
    data = _data()
    named = data["pr_templates"] + data["issue_templates"]
    return frozenset(
        [p.rpartition("/")[0] for p in named]
        + data["pr_template_folders"]
        + data["issue_template_folders"]
    )


def collect(facts: Facts) -> Templates:
    """The repository's templates, where GitHub reads them (excluded folders too: GitHub uses them)."""
    found = Templates()
    folders = _folders()
    for path in facts.index.in_folders(lambda folder: folder.lower() in folders):
        lower = path.lower()
        if _is_pr(lower):
            found.pr.append(_read(facts, path, PR))
        elif _is_issue(lower):
            found.issue.append(_read(facts, path, ISSUE))
    return found


# --- questions -----------------------------------------------------------------------------------


def security_question(template: Template) -> Match | None:
    """The template's line asking about security: one naming the OWASP Top 10, else a question."""
    # A question ("...?") is better evidence than a heading that merely says "Security".
    asking = sorted(
        (t for t in template.lines if asks_about_the_change(t.text)),
        key=lambda t: "?" not in t.text,
    )
    if not asking:
        return None
    owasp = [t for t in template.lines if names_owasp_top10(t.text)]
    both = [t for t in asking if names_owasp_top10(t.text)]
    if both:
        return Match(template, both[0], both[0])
    return Match(template, asking[0], owasp[0] if owasp else None)


def security_checklist_item(template: Template) -> TextLine | None:
    return next((t for t in template.lines if t.checkbox and asks_security(t.text)), None)
