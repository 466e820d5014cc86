"""One deadline per question: every LLM call a question makes (follow-up rewrite, answer, judge) shares it.

A deadline is a `time.monotonic()` value. `QuestionDeadlineError` says the *question's* budget ran out (as
opposed to the server timing out each attempt on its own), so the fallback can say which happened.
"""

from __future__ import annotations

import time

from index.errors import LLMTimeoutError


class QuestionDeadlineError(LLMTimeoutError):
    """The question's overall LLM budget (FOOTNOTE_QUESTION_DEADLINE_S) ran out before the call finished."""


def seconds_left(deadline: float | None) -> float | None:
    """Seconds until `deadline` (never negative); None when there is no deadline."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def sooner(deadline: float | None, seconds: float) -> float:
    """The earlier of `deadline` and `seconds` from now."""
    own = time.monotonic() + seconds
    return own if deadline is None else min(deadline, own)
