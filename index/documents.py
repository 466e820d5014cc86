"""The document model every loader produces (`LoadedDocument`: sections with heading paths and pages, plus title,
url and date) and the helpers the format readers share: Markdown-style heading splitting, ISO dates."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S.*)$")  # linear; closing #s are stripped in code


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path (and on one PDF page)."""

    text: str
    heading: str | None = None  # "Part > Section"
    page: int | None = None


@dataclass
class LoadedDocument:
    path: Path
    title: str
    sections: list[Section]
    content_hash: str
    url: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD
    notes: list[str] = field(default_factory=list)  # non-fatal remarks, e.g. "decoded as cp1252"

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()



def iso_date(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        match = re.match(r"(\d{4}-\d{2}-\d{2})", value.strip())
        if match:
            return match.group(1)
    return None


def _heading_text(raw: str) -> str:
    """Heading text without an optional closing `#` sequence ("## Title ##"), keeping "C#"."""
    text = raw.rstrip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        text = bare.rstrip()
    return text or raw.strip()


def markdown_sections(text: str) -> tuple[list[Section], str | None]:
    """Split Markdown on headings; returns sections with heading paths and the first H1 (a title)."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    first_h1: str | None = None
    buf: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(buf).strip()
        if body:
            sections.append(Section(body, " > ".join(h for _, h in path) or None))
        buf.clear()

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else MD_HEADING.match(line)
        if match:
            flush()
            level, heading = len(match.group(1)), _heading_text(match.group(2))
            if level == 1 and first_h1 is None:
                first_h1 = heading
            path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, heading)]
        else:
            buf.append(line)
    flush()
    return sections, first_h1

