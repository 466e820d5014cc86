"""An answer as a Markdown document: the question, the answer (with its comparison table and "Sources
disagree" notice when it has them), and every footnote with its source, its "as of" date (or "undated") and
the full quote, as Markdown footnotes ([^1]). What `footnote ask --format markdown` writes and the Discord
"Export" button attaches.

Document text is data: control characters are removed and quotes are rendered as block quotes, so a
document cannot inject headings or HTML into the export's structure.
"""

from __future__ import annotations

import re

from bot.answer import Answer, Citation
from bot.answering.analyst.dates import UNDATED
from bot.text.control import printable
from bot.text.markers import MARKER

_FALLBACK = {
    "llm_error": "the LLM was unavailable",
    "deadline": "the LLM was too slow",
    "unverified": "the LLM's answer could not be verified",
}


def clean(text: str) -> str:
    """Without control characters, escape sequences or bidi overrides (newlines kept)."""
    return printable(text)


def _footnote_markers(text: str) -> str:
    """ "[1]" / "[1, 2]" -> "[^1]" / "[^1][^2]"."""
    return MARKER.sub(lambda m: "".join(f"[^{n.strip()}]" for n in re.split(r"[,;]", m.group(1))), text)


def _inline(text: str) -> str:
    return " ".join(clean(text).split())


def _definition(c: Citation) -> str:
    when = f"as of {c.date}" if c.date else UNDATED
    where = f"<{c.url}>" if c.url else f"`{_inline(c.source)}`"
    quote = "\n".join(f"    > {line}" if line.strip() else "    >" for line in clean(c.quote).strip().splitlines())
    return f"[^{c.n}]: **{_inline(c.title)}** ({when}), {where}\n\n{quote}"


def to_markdown(answer: Answer) -> str:
    """The whole answer as a self-contained Markdown document."""
    parts = [f"# {_inline(answer.question)}", ""]
    if answer.mode == "fallback":
        why = f": {_inline(answer.fallback_reason)}" if answer.fallback_reason else ""
        what = _FALLBACK.get(answer.fallback_kind or "", "the generated one was not used")
        parts += [f"*Extractive answer ({what}{why}).*", ""]
    parts += [_footnote_markers(clean(answer.text).strip()), ""]
    if answer.refused and answer.nearest_sources:
        parts += ["## Closest sources", ""]
        parts += [f"- **{_inline(c.title)}** ({c.date or UNDATED}): {_inline(c.quote)}" for c in answer.nearest_sources]
        parts.append("")
    if answer.removed:
        parts += ["## Removed by verification", ""]
        parts += [f"- {_inline(r)}" for r in answer.removed]
        parts.append("")
    if answer.citations:
        parts += ["## Sources", ""]
        for c in answer.citations:
            parts += [_definition(c), ""]
    return "\n".join(parts).rstrip() + "\n"
