"""Prompts (plain text files in `prompts/`, loaded as llama-index `PromptTemplate`s) and context packing.

Passages are numbered 1..k (`<passage n="1">`) in the order the verifier will read them back, and wrapped in
<passage> delimiters that the passage text itself cannot forge: the system prompt tells the model that
everything inside them is data, never instructions. The number is an attribute, not a "[1]" in front of the
block: small models copied that layout into "[1] X. [2] Y." answers, markers before their sentences.

The judge prompt (`judge_messages`) shows each claim and its quote inside <item> delimiters in which no
"<" or ">" of the quoted text survives, so a quote can neither close its block nor open a fake one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Protocol

from llama_index.core import PromptTemplate
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.utils import get_tokenizer

from bot.answer import Passage

# In the repo and in the wheel (hatch force-includes "prompts" next to the "bot" package).
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_TAG = re.compile(r"<\s*(/?)\s*passage", re.I)
# The prompt's own markup echoed by a small model ("... with Al-Monitor.\n</passage>"): not part of any answer.
_ECHOED_MARKUP = re.compile(r"<\s*/?\s*passage\b[^>\n]*>", re.I)


def strip_prompt_markup(text: str) -> str:
    """The generated answer without echoed `<passage ...>` / `</passage>` tags (the user never sees them)."""
    return _ECHOED_MARKUP.sub("", text)


class HistoryTurn(Protocol):
    @property
    def question(self) -> str: ...
    @property
    def answer(self) -> str: ...


@cache
def load_prompt(name: str) -> PromptTemplate:
    return PromptTemplate((PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").strip())


def tokenizer() -> Callable[[str], list[int]]:
    # llama-index's tokenizer reads tiktoken's bundled cache (no network): it sets TIKTOKEN_CACHE_DIR to
    # llama_index/core/_static/tiktoken_cache itself while loading, when the variable is unset.
    return get_tokenizer()


def count_tokens(text: str) -> int:
    return len(tokenizer()(text))


def truncate_tokens(text: str, limit: int) -> str:
    """`text` cut to at most `limit` tokens, at a word boundary when it is cut."""
    if limit <= 0:
        return ""
    if count_tokens(text) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits
        mid = (lo + hi + 1) // 2
        if count_tokens(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip() + " …"


def _attr(value: str | None) -> str:
    return re.sub(r"[\"<>\n\r]+", " ", value or "").strip()


def format_passage(n: int, passage: Passage) -> str:
    """One delimited passage. A "<passage" or "</passage" inside the text is defused so it cannot close
    the block early and smuggle text out of the data section."""
    attrs = [f'n="{n}"', f'title="{_attr(passage.title)}"']
    if passage.date:
        attrs.append(f'date="{_attr(passage.date)}"')
    if passage.heading:
        attrs.append(f'section="{_attr(passage.heading)}"')
    body = _TAG.sub(lambda m: f"‹{m.group(1)}passage", passage.text.strip())
    return f"<passage {' '.join(attrs)}>\n{body}\n</passage>"


@dataclass
class Packed:
    """The passages that fit the context budget, numbered in this order, and the token counts."""

    passages: list[Passage]
    messages: list[ChatMessage]
    tokens: dict[str, int] = field(default_factory=dict)


def pack_passages(passages: Sequence[Passage], budget: int) -> list[Passage]:
    """Best-first greedy fill of `budget` tokens; a first passage bigger than the budget is cut to fit."""
    out: list[Passage] = []
    used = 0
    for p in passages:
        cost = count_tokens(format_passage(len(out) + 1, p)) + 2
        if used + cost <= budget:
            out.append(p)
            used += cost
        elif not out:
            text = truncate_tokens(p.text, max(32, budget - 64))
            out.append(replace(p, text=text))
            used = budget
    return out


def answer_messages(question: str, passages: Sequence[Passage], *, context_tokens: int) -> Packed:
    """System rules + user message with the numbered, delimited passages and the question."""
    packed = pack_passages(passages, context_tokens)
    block = "\n\n".join(format_passage(i + 1, p) for i, p in enumerate(packed))
    system = load_prompt("answer_system").format()
    user = load_prompt("answer_user").format(passages=block, question=question.strip())
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content=system),
        ChatMessage(role=MessageRole.USER, content=user),
    ]
    tokens = {"context": count_tokens(block), "prompt": count_tokens(system) + count_tokens(user)}
    return Packed(packed, messages, tokens)


def format_history(turns: Sequence[HistoryTurn], budget: int) -> str:
    """The newest turns that fit `budget` tokens, oldest first."""
    lines: list[str] = []
    used = 0
    for turn in reversed(turns):
        entry = f"User: {turn.question.strip()}\nAssistant: {turn.answer.strip()}"
        cost = count_tokens(entry)
        if used + cost > budget:
            if not lines:
                lines.append(truncate_tokens(entry, budget))
            break
        lines.append(entry)
        used += cost
    return "\n\n".join(reversed(lines))


def condense_messages(question: str, turns: Sequence[HistoryTurn], *, history_tokens: int) -> list[ChatMessage]:
    prompt = load_prompt("condense").format(history=format_history(turns, history_tokens), question=question)
    return [ChatMessage(role=MessageRole.USER, content=prompt)]


def _defuse(text: str) -> str:
    """Quoted text for the judge, on one line, with angle brackets that cannot delimit anything."""
    return " ".join(text.split()).replace("<", "‹").replace(">", "›")


def judge_messages(items: Sequence[tuple[int, str, str]]) -> list[ChatMessage]:
    """The batched entailment check: (id, claim, evidence) items -> system rules + one user message."""
    blocks = "\n\n".join(
        f'<item id="{i}">\n<claim>{_defuse(claim)}</claim>\n<evidence>{_defuse(evidence)}</evidence>\n</item>'
        for i, claim, evidence in items
    )
    ids = [i for i, _, _ in items]
    user = load_prompt("judge_user").format(items=blocks, first=min(ids), last=max(ids))
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=load_prompt("judge_system").format()),
        ChatMessage(role=MessageRole.USER, content=user),
    ]
