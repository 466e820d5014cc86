"""What the analyst strategies read off a passage sentence: how relevant it is, the quantities it gives, and a
short span of it for a table cell (who states it and which party it is about: `attribution`).

Everything here is a verbatim span or a word of the passage: the strategies never write a fact of their own,
so every cell, version and timeline item is its own quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answer import Passage
from bot.answering.analyst.attribution import PRONOUN_SAYS, speaker
from bot.answering.extractive import ExtractiveAnswerer
from bot.answering.extractive_compose import without_bullet
from bot.text.injection import looks_like_injection
from bot.text.markers import BULLET, blank_enumerators
from bot.text.sentences import Span, split_sentences
from bot.text.terms import MONTH_NAMES, content_terms, same_text, stem, term_in

_NUMBER = re.compile(r"(?<![\w.\-])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w\-])|(?<![\w.\-])\d+(?:\.\d+)?(?![\w\-])")
_YEARLIKE = re.compile(r"^(1[89]\d\d|20\d\d)$")
_APPROX = re.compile(r"(?:close to|nearly|about|around|roughly|some|almost|approximately|an estimated|up to)\s*$", re.I)
_LOWER_BOUND = re.compile(r"(?:at least|more than|over|upwards of|in excess of)\s*$", re.I)


# What a casualty or damage count counts. A facet that names one of these classes ("wounded", "houses
# damaged") is only answered by a sentence naming the same class: "41 killed" is not a wounded figure, and
# "pictures of wrecked hardware" says nothing about houses, however close their embeddings are (dev a13, whose
# Tajik cells were filled by exactly those at the min_semantic cosine 0.3). Words chosen by hand, not tuned.
COUNT_CLASSES: tuple[frozenset[str], ...] = tuple(
    frozenset(stem(w) for w in group.split())
    for group in (
        "killed kill dead death deaths died die lives fatalities fatality toll perished",
        "wounded wound injured injury injuries hurt",
        "house houses home homes dwellings buildings",
        "evacuated evacuation evacuees displaced refugees fled",
    )
)


def same_count_class(facet_terms: set[str], terms: set[str]) -> bool:
    """False when the facet counts a class (deaths, wounded, houses, evacuees) the sentence never names."""
    asked = [c for c in COUNT_CLASSES if facet_terms & c]
    return all(terms & c for c in asked)


def count_synonyms(a: str, b: str) -> bool:
    """Do two words name the same counted class ("died" ~ "killed" ~ "lives")? Stems, as `COUNT_CLASSES`."""
    sa, sb = stem(a), stem(b)
    return any(sa in c and sb in c for c in COUNT_CLASSES)


@dataclass(frozen=True)
class Evidence:
    """One candidate sentence: `passages[rank]`, its span, how well it answers the query."""

    rank: int
    passage: Passage
    span: Span
    score: float


def scored(answerer: ExtractiveAnswerer, query: str, passages: list[Passage], floor: float) -> list[Evidence]:
    """Sentences of the passages scored against `query` by the ONE relevance function of the read path
    (`ExtractiveAnswerer.topical`, the scale of `relevance` and of the refusal threshold), best first, at
    least `floor`, overlapping chunks' repeats removed."""
    out: list[Evidence] = []
    wanted = content_terms(query)
    for s in answerer.topical(query, passages):
        if s.score < floor:
            break
        if looks_like_injection(s.span.text):
            continue
        span = _one_sentence(s.span, wanted)
        if any(repeats(span.text, e.span.text) for e in out):
            continue
        out.append(Evidence(s.rank, passages[s.rank], span, s.score))
    return out


def repeats(a: str, b: str) -> bool:
    """Is one candidate a repeat of the other? Overlapping chunks repeat a sentence whole or cut at the
    chunk's edge, so a contained text is a repeat when it is at least half the other's length. A short list
    item ("Kazakhstan") inside a longer sentence ("... Uzbekistan and Kazakhstan are negotiating with Baykar")
    is not: dropping the sentence for it lost dev a25's cells (half: a cut-off repeat keeps most of its
    sentence; chosen by hand, not tuned)."""
    if not same_text(a, b):
        return False
    na, nb = " ".join(a.split()), " ".join(b.split())
    return 2 * min(len(na), len(nb)) >= max(len(na), len(nb))


def _one_sentence(span: Span, wanted: set[str]) -> Span:
    """A scored span of several sentences (a list with its lead-in, a sentence and its continuation) is
    quoted by its one sentence that holds most of the query's words (and a figure, when it has one): every
    quote an analyst answer shows is a single checkable sentence."""
    parts = split_sentences(span.text)
    if len(parts) <= 1:
        return span
    if len(parts) == 2 and PRONOUN_SAYS.match(parts[1].text):
        return span  # "... the State Committee took a different line. It said ...": the claim needs its source

    def hits(p: Span) -> float:
        own = content_terms(p.text)
        return (
            sum(1 for t in wanted if term_in(t, own))
            + 0.5 * bool(_NUMBER.search(p.text))
            - 0.1 * (p.text.endswith(":"))
        )

    best = without_bullet(max(parts, key=hits))  # a list item is quoted without its "1." or "-"
    return Span(span.start + best.start, span.start + best.end, best.text)


def sentences(passage: Passage) -> list[Span]:
    """The passage's quotable sentences, list items without their bullet (as the extractive candidates are:
    a span check against those must see the same offsets)."""
    return [
        without_bullet(s)
        for s in split_sentences(passage.text)
        if not looks_like_injection(s.text) and s.text[-1] != "?"
    ]


def with_its_list(passage: Passage, sents: list[Span], k: int) -> Span:
    """Sentence k, or, when it is a lead-in ("... covering two kinds of equipment:"), it with the adjacent list
    items that follow: a lead-in alone is a cut quote that states nothing."""
    s = sents[k]
    if not s.text.rstrip().endswith(":"):
        return s
    end = k
    # `sentences` strips the bullets, so an item is a sentence whose gap from the one before is a bullet.
    while end + 1 < len(sents):
        gap = passage.text[sents[end].end : sents[end + 1].start]
        if "#" in gap or not BULLET.fullmatch(gap):  # a heading is not a list item
            break
        end += 1
    if end == k:
        return s
    return Span(s.start, sents[end].end, passage.text[s.start : sents[end].end])


def its_list(passage: Passage, span: Span) -> Span | None:
    """For a lead-in (`span` ending in ":"), it with the list items that follow it; None when it is no lead-in
    or has no items."""
    if not span.text.rstrip().endswith(":"):
        return None
    sents = sentences(passage)
    k = next((i for i, s in enumerate(sents) if s.start == span.start), None)
    if k is None:
        return None
    whole = with_its_list(passage, sents, k)
    return whole if whole.end > span.end else None


def lead_in_with_list(passage: Passage, span: Span) -> Span | None:
    """For a list item (`span`, bullet or not), the list's lead-in with all its items ("Its founding members
    alongside Turkey are: - Azerbaijan - Kazakhstan - Kyrgyzstan ..."); None when the span is no list item
    under a lead-in ending in ":"."""
    sents = sentences(passage)
    k = next((i for i, s in enumerate(sents) if span.start <= s.start < span.end), None)
    while k is not None and k > 0:
        gap = passage.text[sents[k - 1].end : sents[k].start]
        if "#" in gap or not BULLET.fullmatch(gap):
            return None  # not (or no longer) inside a list
        k -= 1
        if sents[k].text.rstrip().endswith(":"):
            whole = with_its_list(passage, sents, k)
            items = [s for s in sents if whole.start < s.start < whole.end]
            if all(_whole_sentence(s.text) for s in items):
                return None  # "1. The outlet Qirim News reported that ...": each item states its claim itself
            return whole if whole.end >= span.end else None
    return None


def _whole_sentence(item: str) -> bool:
    """A list item that is a sentence of its own (capitalised, at least five words, a full stop), not a
    fragment its lead-in completes ("military helicopters, and", "Azerbaijan")."""
    return item[:1].isupper() and len(item.split()) >= 5 and item.rstrip()[-1:] in ".!?"



@dataclass(frozen=True)
class Quantity:
    value: float
    text: str  # as written, e.g. "close to 100"
    approximate: bool
    lower_bound: bool


def quantities(sentence: str, near: set[str]) -> list[Quantity]:
    """Counts in a sentence (not years, days of a month, model numbers or a list item's "1."), nearest to the
    `near` terms first."""
    sentence = blank_enumerators(sentence)
    tokens = list(re.finditer(r"[\w’'\-]+", sentence))
    anchor = [i for i, t in enumerate(tokens) if near and term_in(stem(t.group()), near)]
    found: list[tuple[int, Quantity]] = []
    for m in _NUMBER.finditer(sentence):
        raw = m.group()
        after = sentence[m.end() : m.end() + 12].strip().lower()
        if _YEARLIKE.match(raw) or after.split(" ")[0].rstrip(".,;:") in MONTH_NAMES:
            continue
        before = sentence[max(0, m.start() - 24) : m.start()]
        approx = bool(_APPROX.search(before))
        bound = bool(_LOWER_BOUND.search(before))
        lead = _APPROX.search(before) or _LOWER_BOUND.search(before)
        text = (lead.group().strip() + " " + raw) if lead else raw
        idx = next((i for i, t in enumerate(tokens) if t.start() <= m.start() < t.end()), 0)
        distance = min((abs(idx - a) for a in anchor), default=0)
        found.append((distance, Quantity(float(raw.replace(",", "")), text, approx, bound)))
    found.sort(key=lambda x: x[0])
    return [q for _, q in found]


def compatible(a: Quantity, b: Quantity, tolerance: float = 0.1) -> bool:
    """Do two figures agree? Equal; an approximation within `tolerance` (10 %: "close to 100" ~ 94; a round
    figure stated as approximate, chosen by hand, not tuned); a lower bound the other figure meets."""
    if a.value == b.value:
        return True
    if (a.lower_bound and b.value >= a.value) or (b.lower_bound and a.value >= b.value):
        return True
    if a.approximate or b.approximate:
        return abs(a.value - b.value) <= tolerance * max(a.value, b.value)
    return False


def short_span(sentence: Span, focus: set[str], *, max_words: int = 24, must: set[str] | None = None) -> Span:
    """The clause of a long sentence that holds the focus terms (a table cell), as a sub-span of it. With
    `must` (the row's own words), a clause naming the row beats any clause that does not: in "Turkmenistan was
    the first ..., in December 2020; ... Kazakhstan are negotiating" the Kazakhstan cell is the second clause,
    though the first has a figure (dev a11)."""
    if len(sentence.text.split()) <= max_words:
        return sentence
    best: Span | None = None
    best_key: tuple[bool, int] = (False, -1)
    for m in re.finditer(r"[^;:—–()]+", sentence.text):
        piece = m.group().strip()
        if len(piece.split()) < 4:
            continue
        start = sentence.start + m.start() + (len(m.group()) - len(m.group().lstrip()))
        own = content_terms(piece)
        hits = sum(1 for t in own if term_in(t, focus)) + (1 if _NUMBER.search(piece) else 0)
        named = bool(must) and all(term_in(t, own) for t in must or ())
        if (named, hits) > best_key:
            best, best_key = Span(start, start + len(piece), piece), (named, hits)
    return best if best is not None and best_key[1] > 0 else sentence


def mentions(text: str, entity: str) -> bool:
    """Does `text` name the entity (every content word of it, as a whole word or another form of a name)?"""
    own = content_terms(text)
    want = [t for t in content_terms(entity) if t not in ("state", "side", "account")]
    return bool(want) and all(term_in(t, own) for t in want)


def told_by_row(e: Evidence, rows: list[str], entity: str | None = None) -> bool:
    """Is the sentence the account of one of `rows`, by name ("Border Watch reported that about 136,000
    residents were evacuated from the Kyrgyz border districts" is Border Watch's figure, not the Kyrgyz
    authorities')? The speaker must be that row itself, both ways: "the Kyrgyz State Committee" speaking is no
    "Kyrgyzstan" row's account (what it reports decides, `_owned_by_other`). A speaker naming `entity` too is
    not another row's."""
    who = speaker(e.span, e.passage)
    if who is None or (entity is not None and mentions(who, entity)):
        return False
    return any(mentions(who, r) and mentions(r, who) for r in rows)


# A sentence whose subject is a plural pronoun ("Many of them presented the Bayraktars' performance as ...")
# leaves who says it to the sentence before ("Turkish social media users were quick to cheer.").
_PRONOUN_SUBJECT = re.compile(r"^(?:(?:Many|Most|Some|Several|All|Few|Both|Each|None|Two|Three) of them|They)\b")


def with_antecedent(passage: Passage, span: Span) -> Span:
    """The span with the sentence before it when it opens with a plural pronoun subject, and that sentence
    stands right before it in the same paragraph: the quote then names who it is about. Else the span."""
    if not _PRONOUN_SUBJECT.match(span.text):
        return span
    before = [s for s in sentences(passage) if s.end <= span.start]
    if not before or passage.text[before[-1].end : span.start].strip():
        return span  # no sentence before, or a heading / list marker / paragraph break between
    if "\n\n" in passage.text[before[-1].end : span.start]:
        return span
    return Span(before[-1].start, span.end, passage.text[before[-1].start : span.end])
