"""Answer types: does a sentence hold a token of the kind the question asks for (a number next to what is
counted, a date, a reason, a person's name next to the role asked about)? Used by the extractive scorer's
`type_match` / `type_miss` features and by its refusal rules (bot/answering/extractive.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from bot.answering.extractive_config import ExtractiveConfig
from bot.text.markers import BULLET
from bot.text.questions import (
    QuestionShape,
    date_matches,
    has_date,
    has_reason,
    is_content,
    typed_positions,
    without_context,
)
from bot.text.terms import KINSHIP, PARTY_NOUNS, ROLE_TITLES, names, numbers, stem, term_in, words

_PEOPLE = frozenset("people persons individuals".split())
_FIGURE_WORDS = frozenset("tallies figures counts numbers totals tolls estimates versions accounts sides".split())
_AUX_WORDS = frozenset("is are was were be been being did do does has have had will would could can".split())
# "How many X", and the same asked as "What (total) number of X" / "What is the number of X" (dev d142).
_COUNTED = re.compile(
    r"^\W*(?:and |but |so )?(?:how many|what (?:is |was )?(?:the )?(?:total )?number of) ((?:[a-z][a-z\-]* ?){1,3})"
)
# A date answers "When did X <event>?" when it stands within this many tokens of a word of the event. Hand-set,
# checked on dev (new questions, chains, RealTime QA dev): the date phrase and its verb share a clause.
_DATE_WINDOW = 8
_CLAUSE_END = re.compile(r";")
_DATE_NOUNS = frozenset("year years month months day days date dates time decade week".split())
_LOWER_WORD = re.compile(r"\b[a-z][a-z'’\-]*")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*[A-Za-z0-9]|[A-Za-z0-9]")
# "Who makes / builds / owns X?" is answered by a company or a body as often as by a person: a sentence naming
# the maker ("Baykar, the drone's manufacturer") holds the wanted token even without a two-word personal name.
_AGENT_QUESTION = re.compile(r"\bwho (?:make|build|produce|manufacture|develop|design)s?\b", re.I)
_AGENT_WORDS = re.compile(
    r"\b(?:makers?|manufactur\w*|producers?|produc(?:es|ed)|builders?|buil[dt]s?|company|firm)\b", re.I
)


def holds_answer_type(
    shape: QuestionShape,
    question: str,
    sentences: list[str],
    embed: Callable[[list[str]], np.ndarray],
    focus_similarity: float,
    counted_similarity: float = ExtractiveConfig.counted_similarity,
) -> list[bool]:
    """Does each sentence hold a token of the wanted kind, next to what the question asks about (a word of
    the question's focus, by stem or by embedding similarity at least `focus_similarity`; the counted noun of
    "How many <noun>" at least `counted_similarity`, ExtractiveConfig records where both come from)?"""
    if shape.kind is None:
        return [True] * len(sentences)
    if shape.kind == "reason":
        return [has_reason(s) for s in sentences]
    focus = shape.focus
    if shape.kind == "date":
        # "When did Kazakhstan sign its contract with Baykar?": a date next to the event asked about, not any
        # date ("... the first to buy TB2s, in December 2020; ... Kazakhstan are negotiating with Baykar").
        # The event is its verb and nouns; not its names, which a passage repeats around every date.
        focus = tuple(dict.fromkeys(
            w.lower() for w in words(without_context(question))
            if is_content(w) and not w[0].isupper() and w.lower() not in _DATE_NOUNS
        ))
        if not focus:
            return [has_date(s) for s in sentences]
    tokens = [list(_TOKEN.finditer(s)) for s in sentences]
    sims: dict[tuple[str, str], float] = {}
    if focus:
        vocab = sorted({m.group().lower() for ts in tokens for m in ts if is_content(m.group())})
        if vocab:
            vecs = embed(vocab + list(focus))
            grid = vecs[: len(vocab)] @ vecs[len(vocab) :].T
            sims = {(w, f): float(grid[a, b]) for a, w in enumerate(vocab) for b, f in enumerate(focus)}

    def is_focus(token: str) -> bool:
        return any(_same_word(token, f, sims, focus_similarity) for f in focus)

    if shape.kind == "date":
        parties = _parties(question)
        out_dates: list[bool] = []
        for sentence, toks in zip(sentences, tokens, strict=True):
            spans = [m.span() for m in date_matches(sentence)]
            # Clauses a semicolon ends: "... to buy TB2s, in December 2020; ... Kazakhstan are negotiating with
            # Baykar" dates Turkmenistan's purchase, not Kazakhstan's talks. Not a colon: "14 September: fighting
            # flared up" dates the fighting.
            clause = [len(_CLAUSE_END.findall(sentence[: m.start()])) for m in toks]
            at = [j for j, m in enumerate(toks) if any(a < m.end() and m.start() < b for a, b in spans)]
            near = [j for j, m in enumerate(toks) if is_content(m.group()) and is_focus(m.group())]
            # Every party the question names that the sentence names must stand in the date's clause: "When did
            # Uzbekistan sign its deal?" is not answered by "Turkmenistan bought TB2s in December 2020; ...
            # Uzbekistan is negotiating".
            stems = [stem(m.group().lower()) for m in toks]
            named = [p for p in parties if p in stems]
            in_clause = [d for d in at if all(
                any(st == p and clause[k] == clause[d] for k, st in enumerate(stems)) for p in named)]
            # No word of the event next to the date: its verb may be paraphrased ("reach" for "took delivery",
            # "created" for "set up", "get" for "buy"), or the word found is a far modifier ("When did
            # Turkmenistan get its first TB2s?": "the first republic in the region to buy TB2s, in December
            # 2020"). The date still answers when every party asked about stands in its clause and one of them
            # next to it (not "In May 2022 the committee ... said ... no contract with Baykar" for "When was
            # Baykar founded?").
            event = any(abs(d - j) <= _DATE_WINDOW and clause[d] == clause[j] for d in in_clause for j in near)
            beside = [k for k, st in enumerate(stems) if st in parties]
            # An event word present but far must come before the date in its clause ("the first ... to buy
            # TB2s, in December 2020"), not after it ("In 1991 Kyrgyzstan declared independence ..., and three
            # decades later ... it bought TB2s").
            dated = [d for d in in_clause if not near or any(j < d and clause[j] == clause[d] for j in near)]
            out_dates.append(event or (bool(parties) and len(named) == len(parties) and any(
                abs(k - d) <= _DATE_WINDOW and clause[k] == clause[d] for d in dated for k in beside)))
        return out_dates

    # Names, also at a sentence start when the word is no dictionary word and never written in lower case
    # here: "Turkmenistan became the first ..." names Turkmenistan though no sentence has it mid-sentence.
    lower_seen = {w for s in sentences for w in _LOWER_WORD.findall(s)}
    # (a superset of `proper_vocabulary(sentences)`: `names` with common words adds, never drops, a name)
    proper: set[str] = set().union(*(names(s, common_words=lower_seen) for s in sentences))
    agent = shape.kind == "person" and bool(_AGENT_QUESTION.search(question))
    # "Who shared the pictures?", "Who protested?": a country, a body or a group answers as often as a person
    # ("Turkey's embassy", "Tajikistan", "the border guard"); only a question about an office or a family tie
    # ("Who is Kyrgyzstan's foreign minister?") wants a person's name.
    any_party = shape.kind == "person" and not any(f in ROLE_TITLES or f in KINSHIP for f in shape.focus)
    window = 3 if shape.kind in ("number", "money") else 4
    # The counted noun of "How many <noun> ...?", when it is one of the focus words.
    head = _COUNTED.match(without_context(question).lower()) if shape.kind == "number" else None
    # The counted noun: the first focus word after "how many" ("How many Tajik soldiers ..." -> soldiers). People
    # are counted under many names ("death toll at 41" for "How many people died?"): only a count of some thing in
    # particular ("houses", "soldiers", "drones") needs that word next to the figure.
    group = head.group(1).split() if head else []
    noun = next((w for w in group if w in focus), None)
    counted = noun if noun not in _PEOPLE else None
    # A noun counted in so many words ("How many houses", "What number of injured"), not a verb's subject left
    # unsaid ("How many were injured ...": people, whom "139 others injured" counts).
    named_noun = counted is not None and not any(w in _AUX_WORDS for w in group[: group.index(counted)])
    focus_stems = {stem(f) for f in focus}
    out: list[bool] = []
    for sentence, toks in zip(sentences, tokens, strict=True):
        if named_noun and counted and _lists_the_counted(sentence, counted, sims, counted_similarity):
            out.append(True)  # "How many founding members ...?" -- "Its founding members are: - A - B - C"
            continue
        hits = typed_positions(shape.kind, toks, sentence, question, proper)
        if not hits and (any_party or (agent and _AGENT_WORDS.search(sentence))):
            hits = typed_positions("name", toks, sentence, question, proper)
        if any_party:
            # Also beside a name elsewhere in the sentence: "Kyrgyz President Sadyr Japarov inaugurated a base
            # built for the drones, which have been put in the service of the border guard" (dev chain d07).
            hits = hits + [(j, False) for j, m in enumerate(toks) if m.group().lower() in PARTY_NOUNS or (
                m.group().lower() in KINSHIP)]
        if not hits or not focus:
            out.append(bool(hits))
            continue
        near = [j for j, m in enumerate(toks) if is_content(m.group()) and is_focus(m.group())]
        if counted:  # "How many houses ...": the figure counts houses, not anything near "side"
            near = [j for j, m in enumerate(toks) if _same_word(m.group(), counted, sims, counted_similarity)]
            # ... and a figure followed by another plural noun counts that: "the two tallies differ" is no count
            # of the injured (dev d142), "five villages" none of houses.
            if named_noun:
                hits = [(h, b) for h, b in hits if not _counts_another(toks[h + 1 :], counted, sims,
                                                                      counted_similarity)]
        # A list the focus word introduces names its items after the colon, however far: "listed regional hot
        # spots as opportunities for Turkish armed drones: the Kyrgyz-Tajik clashes, ... Afghanistan".
        # The focus word itself (by stem), not one near it in meaning ("neighbours: Kyrgyz officials ...").
        found = re.search(r"(?<!\d):(?!\d)", sentence)  # not a clock time ("05:30")
        colon = found.start() if found else -1
        listed = shape.kind == "name" and colon > 0 and any(
            toks[j].end() <= colon and stem(toks[j].group().lower()) in focus_stems for j in near
        ) and any(toks[h].start() > colon for h, _ in hits)
        out.append(listed or any(abs(h - j) <= window or (bare and j < h) for h, bare in hits for j in near))
    return out


def _lists_the_counted(sentence: str, counted: str, sims: dict[tuple[str, str], float], similarity: float) -> bool:
    """A lead-in naming the counted noun with a list of at least two items under it answers "How many <noun>"
    by counting them (dev d134)."""
    lines = [ln for ln in sentence.splitlines() if ln.strip()]
    items = [ln for ln in lines[1:] if BULLET.match(ln)]
    lead = lines[0] if lines else ""
    return (
        len(items) >= 2 and lead.rstrip().endswith(":")
        and any(_same_word(m.group(), counted, sims, similarity) for m in _TOKEN.finditer(lead))
    )


def _counts_another(
    after: list[re.Match[str]], counted: str, sims: dict[tuple[str, str], float], similarity: float
) -> bool:
    """The word right after a figure is a lower-case plural other than the counted noun (or people)."""
    if not after:
        return False
    w = after[0].group()
    plural = w.islower() and w.isalpha() and len(w) > 3 and w.endswith("s") and not w.endswith("ss")
    if counted.endswith("ed") or counted in ("dead", "missing"):
        # "How many injured": the noun after the figure says who ("139 civilians injured"), unless it is a word
        # for figures themselves ("the two tallies differ", dev d142).
        return plural and w in _FIGURE_WORDS
    return plural and is_content(w) and w not in _PEOPLE | {"others"} and not _same_word(w, counted, sims, similarity)


def _same_word(token: str, word: str, sims: dict[tuple[str, str], float], focus_similarity: float) -> bool:
    """`token` is `word` by stem or another form of a name, or a word within `focus_similarity` of it."""
    lt = token.lower()
    st = stem(lt)
    return st == stem(word) or term_in(st, {stem(word)}) or sims.get((lt, word), 0.0) >= focus_similarity


def _parties(question: str) -> list[str]:
    """Stems of the names a question asks about ("When did Uzbekistan sign its TB2 deal?" -> uzbekistan, tb2);
    a follow-up naming nothing itself ("When was it created (OTS, Turkey)?") asks about its first context name."""
    own = without_context(question)
    # The sentence side tokenises with _TOKEN too, so "TB2" and "TB2s" share a stem.
    found = [w for w in [m.group() for m in _TOKEN.finditer(own)][1:] if w[0].isupper() and is_content(w)]
    if not found and own != question:
        context = question[len(own) - 1 :].strip(" ()?").split(",")[0]
        found = [m.group() for m in _TOKEN.finditer(context) if m.group()[0].isupper() and is_content(m.group())]
    return list(dict.fromkeys(stem(w.lower()) for w in found))


# "What was the range of the S-300 systems?", "What is the exchange rate of the euro?": a measure of a thing. Only
# measures: a text states a range or a rate in those words, while "the name / effect / role / outcome of X" is
# answered without ever saying "name" or "effect" (dev d118-d123).
_ATTRIBUTE_OF = re.compile(r"^\W*what (?:is|was|are|were) the ((?:[a-z][\w\-]* ){0,2}[a-z][\w\-]*) of\b")
_NUMBER = (
    r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundreds?|thousands?)"
)
_VALUE = re.compile(
    rf"\b{_NUMBER}\s*(?:%|(?:[a-z\-]+\s+){{0,2}}(?:per|a|an|each)\s+(?:year|day|hour|month|week|minute)\b|"
    r"(?:km/h|mph|knots|km|kilomet(?:re|er)s?|met(?:re|er)s?|miles?|feet|ft|tonnes?|tons?|kg|kilograms?|"
    r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|percent|per cent)\b)",
    re.I,
)
_SPELLED_QUANTITY = re.compile(
    r"\b(?:hundreds?|thousands?|millions?|billions?|dozens?|(?:twen|thir|for|fif|six|seven|eigh|nine)ties)\b", re.I
)
_MEASURES = frozenset(
    "range rate speed price cost size weight height length width depth area population age value budget salary "
    "capacity duration distance temperature altitude payload wingspan endurance revenue turnover".split()
)


def states_the_attribute(
    question: str, sentence: str, embed: Callable[[list[str]], np.ndarray], focus_similarity: float
) -> bool | None:
    """For "What was the <measure> of X?": does `sentence` name that measure (by stem, or a word within
    `focus_similarity` of it) or give a value of it? A sentence about X that does neither does not state its range.
    None when the question asks for no measure."""
    m = _ATTRIBUTE_OF.match(without_context(question).lower())
    attribute = [w for w in m.group(1).split() if is_content(w)] if m else []
    if not attribute or not _MEASURES.intersection(attribute):
        return None
    # Every measure here is a quantity: a sentence with no figure at all does not state it, though it names the
    # measure ("its population is mostly Persian-speaking" for "What is the population of Kyrgyzstan?", dev d125).
    figure = bool(numbers(sentence))  # ("one of its members" is no figure)
    if not figure and not _SPELLED_QUANTITY.search(sentence):
        return False
    toks = {t.group().lower() for t in _TOKEN.finditer(sentence) if is_content(t.group())}
    stems = {stem(t) for t in toks}
    if any(stem(a) in stems for a in attribute):
        return True
    if not figure:
        # A quantity in words states the measure it names ("a population of about a hundred thousand"), or a
        # price in money ("several million dollars each"); not any measure ("profits in the hundreds of millions
        # of dollars" is no exchange rate, dev d44 in lower case).
        money = {"price", "cost", "value", "budget", "salary", "revenue", "turnover"}
        currency = re.search(r"\b(?:dollars?|euros?|pounds?|lira|roubles?|rubles?|yuan)\b", sentence, re.I)
        return bool(money.intersection(attribute)) and currency is not None
    # A value states a measure without naming it ("cruises at 130 km/h", "lasted three days", "produce 120 drones
    # a year", "who is 56"): a number with a unit, or for an age a bare number. Not a count of other things
    # ("nearly 100 lives" is no speed, "two kinds of equipment" no range), nor a sum of money for a rate.
    if _VALUE.search(sentence) and ("rate" not in attribute or re.search(r"%|\bper\b|\bpercent", sentence)):
        return True
    if "age" in attribute and re.search(r"(?<![\d.,])(?:[1-9]\d?|1[01]\d)(?![\d.,]?\d)", sentence):
        return True
    vocab = sorted(toks)
    if not vocab:
        return False
    vecs = embed(vocab + attribute)
    return bool((vecs[: len(vocab)] @ vecs[len(vocab) :].T).max() >= focus_similarity)
