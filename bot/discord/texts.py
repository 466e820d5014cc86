"""What the bot says, in one place: notices, error texts for users, and readable thread names.

Pure text, no network. Operator problems (no index, a missing collection, an unreachable store) are told to
users without any detail (paths, hosts); the detail goes to the log for whoever runs the bot.
"""

from __future__ import annotations

import math
import re

from discord.utils import remove_markdown

from index.errors import (
    ConfigError,
    DataDirError,
    EmbeddingMismatchError,
    FootnoteError,
    IndexEmptyError,
    IndexUnavailableError,
)

HELP = "Ask me a question about the team's documents, e.g. `@Footnote how do we deploy?`"
RESTARTING = "I'm restarting; please ask again in a minute."
NOT_ENABLED = "I'm not enabled in this channel."
NOT_ADMIN = "Only members with **Manage Server** or the bot's admin role can do that."
NOT_HERE = "You can't use this command here."
COMMAND_CHANGED = "This command changed; it will refresh shortly. Please try again in a minute."
NOT_INDEXED = "This channel's documents aren't indexed yet — an admin has been told."
STORE_DOWN = "I can't reach the documents right now — an admin has been told. Please try again later."
CANNOT_POST = "I can't post answers in this channel (missing permission) — an admin has been told."
GONE = "This answer is no longer on record, so its sources and feedback are unavailable."

# Errors about the deployment, not the question: the user can do nothing about them and must not see paths.
_OPERATOR_ERRORS: tuple[tuple[type[FootnoteError], str], ...] = (
    (IndexEmptyError, NOT_INDEXED),
    (EmbeddingMismatchError, NOT_INDEXED),
    (IndexUnavailableError, STORE_DOWN),
    (DataDirError, STORE_DOWN),
    (ConfigError, STORE_DOWN),
)


def operator_text(exc: BaseException) -> str | None:
    """The user's text for an operator-side error, or None when `exc` is not one."""
    for kind, text in _OPERATOR_ERRORS:
        if isinstance(exc, kind):
            return text
    return None


def slow_down(wait: float, per_minute: int) -> str:
    return (
        f"⏳ You're asking faster than I can keep up ({per_minute} question{'s' if per_minute != 1 else ''} a "
        f"minute). Please ask again in {math.ceil(wait)} s — this one was not answered."
    )


def too_long(length: int, limit: int) -> str:
    return f"⚠️ That question is too long ({length:,} characters; the limit is {limit:,}). Please shorten it."


def ask_me_in(channel_ids: list[int]) -> str:
    """For a DM when only some channels are enabled; `<#id>` renders as a link and never pings."""
    shown = " or ".join(f"<#{cid}>" for cid in channel_ids[:3])
    return f"I only answer in the team's channels here: ask me in {shown}."


# --- thread names ------------------------------------------------------------------------------------------
THREAD_NAME_MAX = 100  # Discord's limit for a channel/thread name
_FENCE_RE = re.compile(r"```[\w+#.-]*\n?(.*?)(```|$)", re.S)
_MENTION_RE = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)\b")
_EMOJI_RE = re.compile(r"<a?:(\w+):\d+>")
_MASKED_LINK_RE = re.compile(r"\[([^\]]*)\]\(<?(https?://[^)\s>]+)>?\)")
_ANGLE_LINK_RE = re.compile(r"<(https?://[^>\s]+)>")
_URL_RE = re.compile(r"https?://([^/\s]+)\S*")
_SPOILER_RE = re.compile(r"\|\|(.*?)\|\|", re.S)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def plain_text(text: str) -> str:
    """Message markup → readable one-line text: no mentions, fences, spoilers, markdown or raw URLs."""
    text = _FENCE_RE.sub(lambda m: f" {m.group(1)} ", text)
    text = _MENTION_RE.sub(" ", text)
    text = _EMOJI_RE.sub(r":\1:", text)
    text = _MASKED_LINK_RE.sub(r"\1", text)
    text = _ANGLE_LINK_RE.sub(r"\1", text)
    text = _URL_RE.sub(r"\1", text)  # a link in a title reads as its site
    text = _SPOILER_RE.sub(r"\1", text)
    text = remove_markdown(text, ignore_links=False).replace("`", "")
    text = re.sub(r"(?m)^\s*(?:>+|#+|-#)\s+", "", text)  # quotes, headings, subtext
    text = _CONTROL_RE.sub(" ", text)
    return " ".join(text.split())


def thread_name(question: str) -> str:
    name = plain_text(question)
    if len(name) > THREAD_NAME_MAX - 2:
        cut = name[: THREAD_NAME_MAX - 3]
        space = cut.rfind(" ")
        name = (cut[:space] if space > THREAD_NAME_MAX // 2 else cut).rstrip() + "…"
    return name or "Question"
