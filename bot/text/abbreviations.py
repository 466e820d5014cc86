"""Abbreviations a text defines for itself: "break-induced DNA replication (BIR)", "Organization of Turkic
States (OTS)". A claim that names an entity by one form is backed by a span that names it by the other, when the
claim or the passage wrote the definition; the verifier (bot/answering/alignment.py) reads these as the passage's
own synonyms. Detection is the Schwartz & Hearst (2003) algorithm: the short form in parentheses, the long form the
shortest run of preceding words whose letters contain the short form's characters in order, the first at a word
start."""

from __future__ import annotations

import re

from bot.text.terms import STOPWORDS

_SHORT = re.compile(r"\(\s*([A-Za-z][\w\-/]{1,9})\s*\)")
_WORD = re.compile(r"[\w’'\-]+")


def abbreviations(text: str) -> dict[str, frozenset[str]]:
    """Short form (lowercased) -> the content words (lowercased) of its long form, for each definition in `text`.
    A short form needs a capital letter ("(BIR)", "(ComYMV)", "(mTECs)"), so "(see below)" defines nothing."""
    out: dict[str, frozenset[str]] = {}
    for m in _SHORT.finditer(text):
        short = m.group(1)
        if not any(c.isupper() for c in short) or len(short) > 10:
            continue
        reach = min(len(short) + 5, 2 * len(short))
        before = _WORD.findall(text[: m.start()])[-reach:]
        long_form = _long_form(short, " ".join(before))
        if long_form is None:
            continue
        terms = frozenset(w.lower().replace("’", "'") for w in _WORD.findall(long_form)) - STOPWORDS
        if terms and short.lower() not in terms:
            out[short.lower()] = terms
    return out


def _long_form(short: str, candidate: str) -> str | None:
    """Schwartz & Hearst: match the short form's letters and digits right to left inside `candidate`, its first
    character at the start of a word; the long form starts at that word."""
    s, i = len(short) - 1, len(candidate) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (candidate[i].lower() != c or (s == 0 and i > 0 and candidate[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        s -= 1
        i -= 1
    start = candidate.rfind(" ", 0, i + 1) + 1
    first = candidate[start:].split(" ", 1)[0]
    if first.lower() in STOPWORDS and start > 1:  # "of Turkic States (OTS)": the O is the word before's
        prev = candidate.rfind(" ", 0, start - 1) + 1
        if candidate[prev : prev + 1].lower() == short[0].lower():
            start = prev
    return candidate[start:]
