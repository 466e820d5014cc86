"""Follow-ups made standalone: "And what did Kyrgyzstan say?" -> a question retrieval can answer alone.

With an LLM the history is condensed by the model (falling back to the offline rewrite when it fails);
offline, the previous turn's subject and names are carried over.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from bot.conversation import Turn
from bot.prompting import condense_messages
from bot.text.questions import is_content
from bot.text.terms import words
from index.errors import LLMError

if TYPE_CHECKING:
    from bot.llm import LLMClient

log = logging.getLogger(__name__)

_PRONOUNS = frozenset("it its they them their theirs this that these those he him his she her there such".split())
_FOLLOWUP_START = re.compile(r"^\W*(and|but|also|so|what about|how about|then|same)\b", re.I)
_FILLER = frozenset("about more else also again too then same instead".split())


class FollowupRewriter:
    """Rewrites a follow-up against the conversation so far; the LLM is optional."""

    def __init__(self, llm: LLMClient | None = None, *, history_tokens: int = 1200, max_chars: int = 2000) -> None:
        self.llm = llm
        self.history_tokens = history_tokens
        self.max_chars = max_chars

    async def rewrite(self, question: str, turns: list[Turn], *, deadline: float | None = None) -> str:
        """`deadline` (a `time.monotonic()` value) bounds the LLM call, retries included; past it, or when
        the call fails, the offline rewrite is used."""
        if not turns:
            return question
        if self.llm is not None:
            import asyncio

            messages = await asyncio.to_thread(condense_messages, question, turns, history_tokens=self.history_tokens)
            try:
                completion = await self.llm.complete(messages, deadline=deadline)
                lines = completion.text.strip().strip('"').splitlines()
                rewritten = lines[0].strip() if lines else ""
                if 0 < len(rewritten) <= self.max_chars:
                    return rewritten
            except LLMError as err:
                log.warning("condensing the follow-up failed, rewriting offline: %s", err)
        return rewrite_offline(question, turns[-1])


def looks_like_followup(question: str) -> bool:
    """ "And what did Kyrgyzstan say?", "Which drones were used?", "What about it?": short, starts like a
    continuation, or leans on a pronoun."""
    toks = [w.lower() for w in words(question)]
    if _FOLLOWUP_START.match(question) or any(t in _PRONOUNS for t in toks):
        return True
    return len(toks) <= 4


def rewrite_offline(question: str, last: Turn) -> str:
    """Make a follow-up standalone without an LLM. When it swaps the subject ("And what did Kyrgyzstan
    say?"), reuse the previous question with the new names; otherwise add the previous question's names and
    subject ("Which drones were used (Kyrgyzstan)?")."""
    if not looks_like_followup(question):
        return question
    previous = last.rewritten or last.question
    new_names = [w for w in words(question)[1:] if w[0].isupper() and is_content(w)]
    own = [w for w in words(question) if is_content(w) and not w[0].isupper() and w.lower() not in _FILLER]
    old_names = [w for w in words(previous)[1:] if w[0].isupper() and is_content(w)]
    if new_names and old_names and len(own) <= 1:
        swapped = previous
        for old, new in zip(old_names, new_names + [new_names[-1]] * len(old_names), strict=False):
            swapped = re.sub(rf"\b{re.escape(old)}\b", new, swapped)
        if swapped != previous:
            return swapped
    mine = {w.lower() for w in words(question)}
    # The subject (names) carries over best; other keywords only when the previous question had no names.
    keywords = [w for w in old_names if w.lower() not in mine] or [
        w for w in words(previous) if is_content(w) and w.lower() not in mine
    ]
    keywords = list(dict.fromkeys(keywords))[:6]
    if not keywords:
        return question
    return f"{question.rstrip(' ?')} ({', '.join(keywords)})?"
