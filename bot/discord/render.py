"""Answer → Discord message parts and embeds. Builds discord objects but never touches the network."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

import discord
from discord.utils import escape_markdown

from bot.answer import Answer, Citation, Table
from bot.discord.splitting import DISCORD_LIMIT, split_message
from bot.feedback import Stats, StoredAnswer
from bot.text.control import printable

# Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
EMBED_TOTAL = 6000
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024

PLACEHOLDER = "🔎 *Searching the documents…*"
FALLBACK_LABEL = "-# ⚠️ LLM unavailable — extractive answer"
# What the fallback line says, by `Answer.fallback_kind`: whether the LLM failed, ran out of the question's
# time, or answered with nothing the checks could confirm (as the CLI's labels).
FALLBACK_LABELS = {
    "llm_error": FALLBACK_LABEL,
    "deadline": "-# ⏱️ LLM too slow — extractive answer",
    "unverified": "-# ⚠️ LLM answer not verified — extractive answer",
}
UNDATED = "undated"  # as bot.answering.analyst.dates.UNDATED (not imported: the frontend stays light)
TABLE_BUDGET = 2500  # chars of the comparison embed; the footnotes get the rest of the message's 6,000
_STREAM_NOTE = "\n-# ✍️ writing… citations are checked before the final answer"
_QUOTE_CHARS = 300
_CONTEXT_CHARS = 1200
_COLOUR = discord.Colour.blurple()
_REFUSAL_COLOUR = discord.Colour.light_grey()


@dataclass
class RenderedAnswer:
    parts: list[str]  # message contents, each ≤ 2,000 chars; the embeds go on the last one
    embed: discord.Embed | None  # the footnotes
    table: discord.Embed | None = None  # a comparison table

    @property
    def embeds(self) -> list[discord.Embed]:
        """What the last message carries: the table first, then the footnotes (together ≤ 6,000 chars)."""
        return [e for e in (self.table, self.embed) if e is not None]


def _clip(text: str, limit: int) -> str:
    """Shorten to `limit` chars at a word boundary when possible, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _safe_url(url: str | None) -> str | None:
    # Only web links become masked links; parentheses would end the markdown link early.
    if not url or not re.match(r"https?://\S+$", url) or len(url) > 512:
        return None
    return url.replace("(", "%28").replace(")", "%29")


def _is_url(text: str) -> bool:
    return bool(re.match(r"https?://", text.strip()))


def _link_label(c: Citation) -> str:
    """A readable label: the source name, or for a web page known only by its URL, the site's name."""
    if not _is_url(c.source):
        return c.source
    host = urlsplit(c.source.strip()).hostname or c.source
    return host.removeprefix("www.")


def _source_line(c: Citation) -> str:
    label = escape_markdown(_clip(_one_line(_link_label(c)), 120)).replace("]", "\\]")
    url = _safe_url(c.url)
    where = f"[{label}]({url})" if url else label
    return f"{where} · {as_of_label(c)}"


def as_of_label(c: Citation) -> str:
    """Every footnote says how current it is: its document's date, or that it has none (never guessed)."""
    return f"as of {c.date}" if c.date else UNDATED


def fallback_label(answer: Answer) -> str:
    return FALLBACK_LABELS.get(answer.fallback_kind or "llm_error", FALLBACK_LABEL)


def answer_content(answer: Answer) -> str:
    lines: list[str] = []
    if answer.mode == "fallback":
        lines.append(fallback_label(answer))
    text = answer.text.strip()
    if answer.table is not None:
        # The table goes in its own embed (Discord renders no Markdown tables): the text keeps its lead line.
        text = "\n".join(line for line in text.splitlines() if not line.startswith("|")).strip()
        if answer.table.rows:
            text += "\n-# One row per entity below; each cell quotes its source [n]."
    lines.append(text or "*(empty answer)*")
    if answer.removed:
        n = len(answer.removed)
        what = f"{n} sentences" if n > 1 else "1 sentence"
        lines.append(f"-# {what} removed: no passage supported {'them' if n > 1 else 'it'}.")
    return "\n".join(lines)


def table_embed(table: Table, budget: int = TABLE_BUDGET) -> discord.Embed | None:
    """A comparison table as embed fields: one field per row, one line per column ("**facet**: cell [n]"),
    cells shortened (then rows dropped, with a note) until it fits `budget` and Discord's field limits."""
    if not table.rows:
        return None
    cap = 300
    while True:
        embed = discord.Embed(title="Comparison", colour=_COLOUR)
        shown = table.rows[: EMBED_FIELDS - 1]
        for row in shown:
            lines = []
            for column, cell in zip(table.columns, row.cells, strict=False):
                text = escape_markdown(_clip(_one_line(cell.text), cap))
                marks = "".join(f"[{n}]" for n in cell.citations)
                text = f"*{text}*" if not cell.citations else f"{text} {marks}"
                lines.append(f"**{escape_markdown(_clip(_one_line(column), 80))}**: {text}")
            embed.add_field(
                name=_clip(escape_markdown(_one_line(row.label)), FIELD_NAME) or "—",
                value=_clip("\n".join(lines), FIELD_VALUE) or "—",
                inline=False,
            )
        if len(embed) <= budget or cap <= 40:
            break
        cap //= 2
    hidden = len(table.rows) - len(shown)
    while len(embed) > budget and len(embed.fields) > 1:
        embed.remove_field(len(embed.fields) - 1)
        hidden += 1
    if hidden:
        embed.set_footer(text=f"{hidden} more rows not shown: Export has the whole table.")
    return embed


def citations_embed(
    citations: Sequence[Citation],
    *,
    title: str = "Sources",
    refusal: bool = False,
    budget: int = EMBED_TOTAL - 100,
) -> discord.Embed | None:
    """One field per footnote: title, link/date and a one-line quote, trimmed to Discord's embed limits."""
    if not citations:
        return None
    quote_cap = _QUOTE_CHARS
    while True:
        embed = discord.Embed(title=title, colour=_REFUSAL_COLOUR if refusal else _COLOUR)
        shown = list(citations[:EMBED_FIELDS])
        for c in shown:
            quote = escape_markdown(_clip(_one_line(c.quote), quote_cap))
            value = f"{_source_line(c)}\n> {quote}" if quote else _source_line(c)
            name = f"[{c.n}] {escape_markdown(_one_line(c.title))}"
            embed.add_field(name=_clip(name, FIELD_NAME), value=_clip(value, FIELD_VALUE), inline=False)
        hidden = len(citations) - len(shown)
        # Fields beyond the total budget go; the Sources button still shows every passage.
        while len(embed) > budget and len(embed.fields) > 1:
            embed.remove_field(len(embed.fields) - 1)
            hidden += 1
        if hidden == 0 or quote_cap <= 60:
            break
        quote_cap //= 2  # first try shorter quotes before hiding footnotes
    note = "These passages came closest but do not answer the question." if refusal else "Full passages: Sources."
    if hidden:
        note = f"{hidden} more not shown. {note}"
    embed.set_footer(text=note)
    return embed


def _printable_embed(embed: discord.Embed | None) -> discord.Embed | None:
    """The embed with every string stripped of control characters and bidi overrides (documents are data)."""
    if embed is None:
        return None

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return printable(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    return discord.Embed.from_dict(clean(embed.to_dict()))


def render_answer(answer: Answer) -> RenderedAnswer:
    rendered = _render_answer(answer)
    return RenderedAnswer([printable(p) for p in rendered.parts], _printable_embed(rendered.embed),
                          _printable_embed(rendered.table))


def _render_answer(answer: Answer) -> RenderedAnswer:
    parts = [p for p in split_message(answer_content(answer)) if p.strip()] or ["*(empty answer)*"]
    table = table_embed(answer.table) if answer.table is not None and not answer.refused else None
    if answer.refused:
        embed = citations_embed(answer.nearest_sources, title="Nearest sources", refusal=True)
    else:
        room = EMBED_TOTAL - 100 - (len(table) if table is not None else 0)
        embed = citations_embed(answer.citations, budget=room)
    return RenderedAnswer(parts, embed, table)


def stream_preview(text: str) -> str:
    """The in-progress text of a streamed answer: its tail, so progress stays visible past 2,000 chars."""
    room = DISCORD_LIMIT - len(_STREAM_NOTE) - 8
    body = printable(text).strip() or PLACEHOLDER
    if len(body) > room:
        body = "…" + body[-(room - 1) :]
    if body.count("```") % 2:
        body += "\n```"
    return body + _STREAM_NOTE


def _passage(c: Citation) -> str:
    """The passage around the quote, quote in bold, as a Markdown block quote."""
    context = c.context.strip() or c.quote
    at = context.find(c.quote) if c.quote else -1
    if at < 0:
        excerpt = escape_markdown(_clip(context, _CONTEXT_CHARS))
    else:
        room = max(0, _CONTEXT_CHARS - len(c.quote)) // 2
        before, after = context[max(0, at - room) : at], context[at + len(c.quote) : at + len(c.quote) + room]
        lead = "…" if at - room > 0 else ""
        tail = "…" if at + len(c.quote) + room < len(context) else ""
        excerpt = f"{lead}{escape_markdown(before)}**{escape_markdown(c.quote)}**{escape_markdown(after)}{tail}"
    return "\n".join("> " + line for line in excerpt.splitlines() if line.strip())


def render_sources(stored: StoredAnswer) -> list[str]:
    """The Sources button's reply: every footnote with its passage in context, split into messages."""
    cits = stored.nearest_sources if stored.refused else stored.citations
    if not cits:
        return ["This answer has no sources."]
    head = "**Nearest passages** (none answered the question)" if stored.refused else "**Sources**"
    blocks = [head]
    for c in cits:
        url = _safe_url(c.url)
        link = f" — <{url}>" if url else ""
        date = f" · {as_of_label(c)}"
        # A web page's source is its URL: show the link once, not as "(url) — <url>".
        same = url is not None and (c.source.strip() == (c.url or "").strip() or _is_url(c.source))
        src = "" if same else f" ({escape_markdown(_one_line(c.source))})"
        blocks.append(f"**[{c.n}] {escape_markdown(_one_line(c.title))}**{src}{link}{date}\n{_passage(c)}")
    return [printable(p) for p in split_message("\n\n".join(blocks)) if p.strip()]


def _lines(rows: Iterable[str], limit: int = FIELD_VALUE) -> str:
    return _clip("\n".join(rows), limit) or "—"


def status_embed(status: Mapping[str, Any]) -> discord.Embed:
    embed = discord.Embed(title="Footnote status", colour=_COLOUR)
    for key, value in list(status.items())[:EMBED_FIELDS]:
        name = str(key).replace("_", " ").capitalize()
        embed.add_field(name=_clip(name, FIELD_NAME), value=_clip(str(value), FIELD_VALUE) or "—", inline=True)
    return embed


def stats_embed(stats: Stats) -> discord.Embed:
    def pct(k: int) -> str:
        return f"{k} ({k / stats.questions:.0%})" if stats.questions else str(k)

    votes = stats.thumbs_up + stats.thumbs_down
    ratio = f"{stats.thumbs_up / votes:.0%} positive" if votes else "no votes yet"
    embed = discord.Embed(title="Footnote usage", colour=_COLOUR)
    embed.add_field(name="Questions", value=str(stats.questions))
    embed.add_field(name="Refusals", value=pct(stats.refusals))
    embed.add_field(name="Fallbacks", value=pct(stats.fallbacks))
    embed.add_field(name="Feedback", value=f"👍 {stats.thumbs_up} / 👎 {stats.thumbs_down} ({ratio})")
    embed.add_field(name="Escalations", value=pct(stats.escalations))
    top = [f"{i}. {escape_markdown(_clip(_one_line(q), 150))} ×{n}" for i, (q, n) in enumerate(stats.top_unanswered, 1)]
    embed.add_field(name="Top unanswered questions", value=_lines(top), inline=False)
    return embed


def relative_to_roots(path: str, roots: Sequence[PurePath]) -> str:
    """`path` relative to the ingest root it is under (operators know their corpus, users need no server paths)."""
    p = PurePath(path)
    for root in sorted(roots, key=lambda r: -len(r.parts)):
        if p.is_relative_to(root):
            rel = p.relative_to(root).as_posix()
            return rel if rel != "." else p.name
    return p.name if p.is_absolute() else p.as_posix()


def progress_line(line: str, roots: Sequence[PurePath]) -> str:
    """A reindex progress line ("3/8 files · /srv/corpus/a.md") with its path made relative."""
    head, sep, path = line.rpartition(" · ")
    return f"{head}{sep}{relative_to_roots(path, roots)}" if sep else line


def _count(summary: Mapping[str, Any], key: str) -> int:
    value = summary.get(key, 0)
    return len(value) if isinstance(value, list | tuple) else int(value or 0)


def reindex_summary(summary: Mapping[str, Any], roots: Sequence[PurePath] = ()) -> str:
    """ "✅ Reindex finished in 2.1 s — indexed 3 · unchanged 5 · skipped 1", totals, then what was skipped."""
    counts = " · ".join(
        f"{label} {_count(summary, key)}"
        for key, label in (("indexed", "indexed"), ("unchanged", "unchanged"), ("skipped", "skipped"),
                           ("deleted", "deleted"))
    )
    seconds = summary.get("seconds")
    took = f" in {float(seconds):.1f} s" if isinstance(seconds, int | float) else ""
    lines = [f"✅ Reindex finished{took} — {counts.capitalize()}"]
    if "documents" in summary or "chunks" in summary:
        lines.append(f"{_count(summary, 'documents'):,} documents, {_count(summary, 'chunks'):,} chunks in the index.")
    if summary.get("recovered"):
        lines.append(f"Recovered {_count(summary, 'recovered')} documents from an interrupted run.")
    for title, key, detail in (("Skipped", "skipped", "reason"), ("Notes", "notes", "note")):
        items = summary.get(key)
        if isinstance(items, list) and items:
            rows = [
                f"- {escape_markdown(relative_to_roots(str(i.get('path', '?')), roots))}: "
                f"{escape_markdown(_one_line(str(i.get(detail, ''))))}"
                for i in items
                if isinstance(i, Mapping)
            ]
            more = f"\n… and {len(rows) - 20} more" if len(rows) > 20 else ""
            lines.append(f"{title}:\n" + "\n".join(rows[:20]) + more)
    return _clip("\n".join(lines), DISCORD_LIMIT)
