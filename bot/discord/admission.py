"""Whether to answer a question, and if not, what to tell the asker: one function for every way of asking
(mention, DM, thread follow-up, reply, forum post, /ask, the "Ask Footnote" context menu).

Order matters and is the same everywhere: shutting down, channel allowlist, empty, too long, rate limit. The rate
limit is charged last, so a question refused for any other reason does not use up the asker's quota.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.discord import texts
from bot.discord.rate_limit import RateLimiter
from index.settings import Settings


@dataclass(frozen=True)
class Refusal:
    text: str
    rate_limited: bool = False  # channel notices for these are sent once per window and deleted later


@dataclass(frozen=True)
class Where:
    """Where a question was asked. `home`: the channel whose settings apply (a thread's parent); None in DMs."""

    home: int | None
    dm: bool


class Admission:
    def __init__(self, settings: Settings, rate_limiter: RateLimiter) -> None:
        self.settings, self.rate_limiter = settings, rate_limiter
        self.closing = False

    def allowed(self, where: Where) -> bool:
        allow = self.settings.discord_channel_allowlist
        return not allow or (not where.dm and where.home in allow)

    def collection(self, where: Where) -> str | None:
        return self.settings.discord_channel_collections.get(where.home) if where.home is not None else None

    def check(self, user_id: int, where: Where, question: str) -> Refusal | None:
        """None when `question` may be answered now (and then it counts against the user's quota)."""
        if self.closing:
            return Refusal(texts.RESTARTING)
        if not self.allowed(where):
            if where.dm:  # a DM is always addressed to the bot: say where it does answer
                return Refusal(texts.ask_me_in(self.settings.discord_channel_allowlist))
            return Refusal(texts.NOT_ENABLED)
        if not question.strip():
            return Refusal(texts.HELP)
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return Refusal(texts.too_long(len(question), limit))
        wait = self.rate_limiter.hit(user_id)
        if wait:
            return Refusal(texts.slow_down(wait, self.settings.discord_rate_per_minute), rate_limited=True)
        return None
