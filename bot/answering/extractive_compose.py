"""How chosen sentences become a readable answer: each sentence once, none leaning on a sentence the reader
does not see, no bare list bullets, and summaries that span several passages.

Pure functions over spans; the scorer (bot/answering/extractive.py) decides which sentences are worth quoting.
"""

from __future__ import annotations

import re

import numpy as np

from bot.answer import Passage
from bot.answering.extractive_refusal import Scored
from bot.text.markers import BULLET
from bot.text.sentences import Span, line_at, line_start, split_sentences
from index.chunking import chunk_position

# A sentence opening with a pronoun or a demonstrative leans on the sentence before it: "He also warned ...",
# "They answered that ...", "This was the first ...". Quoted alone, the reader cannot tell who "he" is.
DANGLING_OPENER = re.compile(
    r"[\"“‘']?\s*(?:he|she|it|they|this|these|those|his|her|its|their|such|him|them|there)\b"
    r"(?!\s+(?:week|month|year|morning|weekend|time)\b)",
    re.I,
)
# "Summarize ...", "give me an overview", "what happened ...": the user wants the gist, not one fact.
SUMMARY_REQUEST = re.compile(
    r"\b(?:summar(?:y|ies|i[sz]e[sd]?|i[sz]ing)|overview|recap|gist|tl;?dr|brief me|"
    r"what(?:'s| has| have)? happen(?:ed|ing)|what is going on|what's going on|main points|key points|"
    r"what(?:'s| is| are) (?:this|these|it|they|(?:the|this|these) (?:article|documents?|texts?|reports?|story|files?))"
    r" about)\b",
    re.I,
)
# "Summarize the article", "What is this about?": no topic but the documents themselves.
_GENERIC_TOPIC = re.compile(
    r"^(?:(?:this|these|it|they|them|all|everything|that|the|whole|entire|\s)+"
    r"|(?:this|these|the|whole|entire|\s)*(?:article|articles|document|documents|docs|text|texts|report|reports|"
    r"story|file|files|corpus|sources?|material|paper|papers|page|pages)\b\W*)$",
    re.I,
)
_SUMMARY_FILLER = re.compile(
    r"\b(?:please|can you|could you|give me|an?|the|me|of|for|about|on|in|summar\w*|overview|recap|gist|"
    r"tl;?dr|brief|what|happened|happening|has|have|is|are|going|main|key|points|short|quick)\b",
    re.I,
)


def is_summary_request(question: str) -> bool:
    return bool(SUMMARY_REQUEST.search(question))


def summary_topic(question: str) -> str:
    """ "Summarize the conflict" -> "conflict": what the summary is about (the question itself when nothing
    else is left)."""
    topic = " ".join(_SUMMARY_FILLER.sub(" ", question).replace("?", " ").split())
    return topic if len(topic) >= 3 else question


def is_generic_topic(topic: str, question: str) -> bool:
    """The summary asks about the documents as a whole: the topic is "the article", "this", or nothing left."""
    t = topic.strip(" .?!")
    return topic == question or not t or bool(_GENERIC_TOPIC.match(t))


def is_dangling(text: str) -> bool:
    return bool(DANGLING_OPENER.match(text))


def without_bullet(span: Span) -> Span:
    """A list item quoted without its bullet ("- Baykar builds ..." -> "Baykar builds ...")."""
    m = BULLET.match(span.text)
    if not m or m.end() >= len(span.text):
        return span
    return Span(span.start + m.end(), span.end, span.text[m.end() :])


def display_text(span: Span) -> str:
    """The answer text of a quote: a lead-in with its list reads as one sentence, items joined by ";"."""
    lines = [BULLET.sub("", ln).strip() for ln in span.text.splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) <= 1:
        # A list item quoted alone ("139 further people were wounded;") ends as a sentence, so the next quote
        # does not read as its continuation.
        one = lines[0] if lines else span.text
        if one.endswith((";", ",")):
            return one[:-1] + "."
        # A bullet without a full stop ("- Both sides agreed to exchange maps") ends as a sentence too.
        return one + "." if one[-1:].isalnum() else one
    head, items = lines[0], [ln.rstrip(".;,") for ln in lines[1:]]
    # "- S-300 systems, and" / "- Orlan-10 drones.": an item that ends in its own conjunction runs on.
    joined = "".join(item + ("" if k == len(items) - 1 else " " if re.search(r"\b(?:and|or)$", item) else "; ")
                     for k, item in enumerate(items))
    return f"{head} {joined}."


def sentence_keys(text: str) -> set[str]:
    """Normalised sentences of a quote: two quotes sharing one repeat it (overlapping chunks)."""
    out = set()
    for s in split_sentences(text):
        key = " ".join(BULLET.sub("", s.text).lower().split()).strip(" .;:")
        if key:
            out.add(key)
    return out


def with_antecedent(span: Span, passage_text: str) -> Span | None:
    """`span` extended back to the sentence before it when it opens with a pronoun ("He also warned ...");
    None when the passage has no sentence before it to resolve the pronoun."""
    if not is_dangling(span.text):
        return span
    before = [s for s in split_sentences(passage_text[: span.start]) if s.end <= span.start]
    if not before:
        return None
    prev = before[-1]
    if is_dangling(prev.text):  # two leaning sentences in a row: one more step back, at most
        earlier = [s for s in before[:-1]]
        if not earlier:
            return None
        prev = earlier[-1]
    return Span(prev.start, span.end, passage_text[prev.start : span.end])


def mmr(relevance: list[float], vectors: np.ndarray, k: int, diversity: float) -> list[int]:
    """Maximal marginal relevance: each pick maximises (1 - diversity) * relevance - diversity * (highest
    cosine to the picks so far)."""
    chosen: list[int] = []
    if not relevance:
        return chosen
    sims = vectors @ vectors.T
    remaining = list(range(len(relevance)))
    while remaining and len(chosen) < k:
        def gain(i: int) -> float:
            redundancy = max((float(sims[i, j]) for j in chosen), default=0.0)
            return (1 - diversity) * relevance[i] - diversity * redundancy

        best = max(remaining, key=gain)
        chosen.append(best)
        remaining.remove(best)
    return chosen


def list_end(raw: list[Span], i: int) -> int:
    """Sentence i, a lead-in ("... are:"), runs to the last item of its list (at most 8 items); the items are told
    by their bullets (not a "#" heading), so this looks at the sentences as written."""
    end = i + 1
    while end + 1 < len(raw) and _is_item(raw[end + 1].text) and end - i < 8:
        end += 1
    return end


def _is_item(text: str) -> bool:
    return BULLET.match(text) is not None and not text.lstrip().startswith("#")


# A paragraph wholly in emphasis ("*Sample document written for the Footnote demo corpus.*"): an editor's note or
# caption about the document, not something it reports.
_NOTE = re.compile(r"\*[^*\s][^*]*\*|_[^_\s][^_]*_")


def editorial_note(passage_text: str, span: Span) -> bool:
    """Is `span` on a line written wholly in emphasis?"""
    return bool(_NOTE.fullmatch(line_at(passage_text, span.start)))


def readable_candidate(s: Scored, passages: list[Passage]) -> Scored | None:
    """The candidate as it can be quoted: extended to the sentence its pronoun leans on, or None when that
    sentence is not in the passage."""
    span = with_antecedent(s.span, passages[s.rank].text)
    if span is None:
        return None
    return s if span == s.span else Scored(s.rank, span, s.semantic, s.lexical, s.score, s.logit)


def heading(passage_text: str, span: Span) -> bool:
    """Is `span` a Markdown heading ("## Border talks")? A title, not a statement."""
    return line_at(passage_text, span.start).startswith("#")


def list_fragment(passage_text: str, span: Span) -> bool:
    """Is `span` a list item that is no sentence of its own ("- military helicopters, and", "- 59 people lost
    their lives;")? Quoted without its lead-in it says nothing checkable."""
    item = _is_item(passage_text[line_start(passage_text, span.start) : span.end])
    # Cut off mid-sentence (it ends in a comma, a semicolon, a colon or a conjunction), or a bare entry of a few
    # words ("- Azerbaijan"). A bullet without a full stop ("- Both sides agreed to pull back troops") is a
    # statement all the same.
    text = span.text.rstrip(" *_")
    return item and (bool(re.search(r"(?:[,;:]|\b(?:and|or))\W*$", text)) or len(text.split()) < 4)


def is_summary_of_the_whole(question: str) -> bool:
    """ "Summarize the documents.", "Give me an overview.": a summary request with no topic of its own."""
    return is_summary_request(question) and is_generic_topic(summary_topic(question), question)


def _real_sentences(passage: Passage, upto: int | None = None) -> list[Span]:
    """The passage's sentences that are no heading and no editorial note (up to offset `upto`)."""
    text = passage.text if upto is None else passage.text[:upto]
    return [s for s in split_sentences(text) if (upto is None or s.end <= upto)
            and not heading(passage.text, s) and not editorial_note(passage.text, s)]


def openings(passages: list[Passage]) -> set[str]:
    """Chunk ids of each document's opening among `passages`: its earliest chunk with a real sentence (a chunk
    holding only a note such as "*Sample document ...*" opens nothing)."""
    best: dict[str, tuple[int, str]] = {}
    for p in passages:
        pos = chunk_position(p.chunk_id)
        if pos is None or not _real_sentences(p):
            continue
        if p.doc_id not in best or pos < best[p.doc_id][0]:
            best[p.doc_id] = (pos, p.chunk_id)
    return {cid for _, cid in best.values()}


def openings_first(passages: list[Passage], first: set[str] | None = None) -> list[Passage]:
    """The passages with each document's opening (`first`, else `openings(passages)`) ahead of the rest (stable
    otherwise): what a summary of the whole reads first, since a question with no topic ("Summarize the
    documents.") retrieves by its wording."""
    first = openings(passages) if first is None else first
    return sorted(passages, key=lambda p: p.chunk_id not in first)


def document_lead(passage: Passage, span: Span, opening: set[str], sentences: int = 2) -> bool:
    """Is `span` among the first `sentences` real sentences of its document's opening? A news article's
    opening states what it is about: lead-3 is a strong summary baseline (See et al., 2017)."""
    return passage.chunk_id in opening and len(_real_sentences(passage, span.start)) < sentences
