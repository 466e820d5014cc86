"""The extractive answerer's question-level refusal features: does this question have an answer in these
passages at all? The model over them (weights in ExtractiveConfig.refusal_weights) is fitted on dev data by
`python -m bench.fit_refusal`; its columns are REFUSAL_FEATURES (bot/answering/extractive_config.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.answer import Passage
from bot.answering.extractive_config import REFUSAL_FEATURES
from bot.text.markers import BULLET
from bot.text.questions import question_shape, without_context
from bot.text.sentences import Span, line_start, split_sentences
from bot.text.terms import (
    _MONTHS,
    MONTH_NAMES,
    ROLE_TITLES,
    STOPWORDS,
    content_terms,
    country_of_capital,
    lower_vocabulary,
    name_present,
    names,
    stem,
    term_in,
)

_RUN = re.compile(r"[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)*")


@dataclass(frozen=True)
class Scored:
    rank: int  # index of the passage in retrieval order
    span: Span
    semantic: float
    lexical: float
    score: float  # P(this candidate answers the question), from the fitted model
    logit: float = 0.0


def name_groups(question: str) -> list[set[str]]:
    """The question's names, one group per run of capitalised words ("Kerim Has" -> {"kerim", "has"}): a
    passage that calls him "Has" mentions him."""
    found = names(question)
    groups: list[set[str]] = []
    for m in _RUN.finditer(question):
        group = {w.lower().removesuffix("'s").removesuffix("’s").rstrip("'’") for w in m.group(0).split()}
        if group & found:
            groups.append(group | (group & found))
    covered = set().union(*groups) if groups else set()
    groups += [{n} for n in found if n not in covered]  # designators ("tb2") and the like
    # A capital speaking names its country's side ("by Bishkek's count" is Kyrgyzstan's count); a capital as a
    # place does not ("How many people live in Paris?" is no question about France).
    return [g | {c for w in g if (c := country_of_capital(w)) and _as_a_voice(w, question)} for g in groups]


def _as_a_voice(capital: str, question: str) -> bool:
    """`capital` stands for a government in `question`: a possessive, "according to" it, or it says something."""
    c = re.escape(capital)
    return re.search(
        rf"\b{c}['’]s?(?!\w)|\baccording to {c}\b|\b{c} (?:says?|said|claims?|claimed|reports?|reported|"
        rf"states?|stated|insists?|insisted|denies|denied|counts?|counted)\b",
        question, re.I) is not None


def group_present(group: set[str], vocabulary: set[str], text: str) -> bool:
    """A word of the name is in the text; a word that is also a stopword ("Has") only when capitalised."""
    return any(
        re.search(rf"\b{re.escape(w.capitalize())}\b", text) if w in STOPWORDS else name_present(w, vocabulary)
        for w in group if len(w) > 1
    )


def question_features(question: str, passages: list[Passage], scored: list[Scored]) -> np.ndarray:
    """The refusal model's row for one question (columns: REFUSAL_FEATURES): how well the best sentence
    fits, and how much of what the question names the passages mention at all. An on-topic question about
    a fact the documents lack ("How many TB2s did Kyrgyzstan buy?") often has a close sentence but a term
    or name no passage holds."""
    if not scored:
        return np.zeros(len(REFUSAL_FEATURES))
    best = scored[0]
    q_terms = content_terms(question)
    best_p = passages[best.rank]
    best_terms = content_terms(f"{best_p.title} {best_p.heading or ''} {best_p.text}")
    all_terms = set().union(*(content_terms(f"{p.title} {p.heading or ''} {p.text}") for p in passages))
    # A follow-up's carried-over context ("How many were wounded then (Kyrgyzstan)?") is a hint for
    # retrieval, not a name the answer must mention.
    q_names = name_groups(without_context(question))
    everything = " ".join(f"{p.title}. {p.text}" for p in passages)
    vocab = lower_vocabulary(everything)
    own = lower_vocabulary(best.span.text)
    n = max(1, len(q_terms))
    return np.asarray([
        best.logit,
        max(s.semantic for s in scored),
        sum(term_in(t, best_terms) for t in q_terms) / n,
        sum(term_in(t, all_terms) for t in q_terms) / n,
        sum(group_present(g, vocab, everything) for g in q_names) / len(q_names) if q_names else 1.0,
        sum(group_present(g, own, best.span.text) for g in q_names) / len(q_names) if q_names else 1.0,
    ])


_WORD = re.compile(r"[A-Za-z][\w'’\-]*")
_DATE_NAMES = frozenset(
    {*MONTH_NAMES, *_MONTHS, "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)


def role_of_another_party(question: str, focus: tuple[str, ...], sentence: str) -> bool:
    """The question asks for a role held by a named party ("Who is Kyrgyzstan's defence minister?", "Who is
    the president of Tajikistan?") and every mention of that role in `sentence` names another party as its
    holder ("Tajik Defence Minister Sherali Mirzo", "Turkish President Recep Tayyip Erdogan"): the sentence
    answers a different question. False when the question names no party, the sentence never mentions the role,
    or some mention has no party in front of it (then nothing is known against it)."""
    groups = name_groups(without_context(question))
    if not focus or not groups:
        return False
    head, modifiers = stem(focus[-1]), {stem(f) for f in focus[:-1]}
    toks = list(_WORD.finditer(sentence))
    verdicts: list[bool] = []
    for j, tok in enumerate(toks):
        if stem(tok.group().lower()) != head:
            continue
        i = j
        while i > 0 and stem(toks[i - 1].group().lower()) in modifiers:  # "Defence Minister": the whole role
            i -= 1
        if i == j and modifiers:
            continue  # "foreign minister" for "defence minister": not this role at all
        adjacent = i > 0 and not sentence[toks[i - 1].end() : toks[i].start()].strip()
        holder = toks[i - 1].group() if adjacent else ""
        low = holder.lower()
        if not holder[:1].isupper() or low in STOPWORDS or _MONTHS.get(low, low) in MONTH_NAMES:
            return False  # no party named right in front of it ("the minister", "On 13 September 2022, President")
        verdicts.append(not any(group_present(g, lower_vocabulary(holder), holder) for g in groups))
    return any(verdicts) and all(verdicts)


def figure_of_an_unnamed_party(question: str, passage: Passage, span: Span) -> bool:
    """A count or date question names who it is about ("How many houses were damaged on the Tajik side?") and
    none of its names is in the best sentence, the lead-in of its list, or its document's title or section
    heading: the figure is someone else's ("613 houses were damaged. These numbers reflect Kyrgyzstan's
    reckoning alone." under "Kyrgyzstan's Official Toll"). Not the sentence before: a passage about one side
    names the other as its opponent ("... the fighting with Tajikistan cost their country. By the Kyrgyz
    count: ..."). A pronoun's antecedent is part of the candidate already (continuation pairs). False when the
    question names nothing."""
    # Months and weekdays date the question ("in the September clashes"); they name no party.
    groups = [g for g in name_groups(without_context(question)) if not g <= _DATE_NAMES]
    if not groups:
        return False
    near: list[str] = []
    # A list item: its lead-in too ("By the Kyrgyz count:").
    if BULLET.match(passage.text[line_start(passage.text, span.start) :]):
        before = [s.text for s in split_sentences(passage.text[: span.start]) if s.end <= span.start]
        near = [s for s in before if not BULLET.match(s)][-1:]
    context = " ".join([passage.title, passage.heading or "", *near, span.text])
    vocab = lower_vocabulary(context)
    return not any(group_present(g, vocab, context) for g in groups)


# "When did Uzbekistan sign ...?", "When will Tajikistan receive ...?": the party whose act is dated, and the
# word after it (a role it modifies: "When did the Kyrgyz president ...?" names an office, not an actor).
_DATED_SUBJECT = re.compile(
    r"^\W*(?i:(?:and |but |so )?when (?:did|does|do|was|were|will|would|has|have|is|are) (?:the )?)"
    r"([A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)*)(?:\s+([a-z][\w\-]*))?"
)
_ROOT_ENDS = ("istan", "stan", "ish", "ian", "ese", "ey", "ia", "s")


def _root(word: str) -> str:
    """A name's root, for its other forms: Turks / Turkey / Turkish -> turk, Kyrgyz / Kyrgyzstan -> kyrgyz."""
    w = word.lower().removesuffix("'s").removesuffix("’s")
    for end in _ROOT_ENDS:
        if w.endswith(end) and len(w) - len(end) >= 4:
            return w[: -len(end)]
    return w


def _named_in(subject: str, context: str) -> bool:
    """`subject` (a name or an acronym) is in `context`: as a word of it, another form of it (same root), or, for
    an acronym, the initials of a run of capitalised words ("OTS" ~ "Organization of Turkic States", "EU" ~
    "European Union")."""
    roots = {_root(w) for w in re.findall(r"[A-Za-z][\w'’\-]*", context) if w[0].isupper()}
    if all(_root(w) in roots for w in subject.split() if w.lower() not in STOPWORDS):
        return True
    if subject.isupper() and 2 <= len(subject) <= 5:
        for run in re.finditer(r"[A-Z][a-z]+(?:\s+(?:of|for|and|the)?\s*[A-Z][a-z]+)+", context):
            if subject in "".join(w[0] for w in run.group().split() if w[0].isupper()):  # ("The" opens a run)
                return True
    return False


def date_of_another_party(question: str, passage: Passage, span: Span) -> bool:
    """A when-question's subject ("When did Uzbekistan sign its TB2 deal?") is named nowhere in the best
    sentence, the two before it, or its document's title or heading: the date is another party's act
    ("Kyrgyzstan ... took delivery in December 2021" for that question, dev d106). Names in any of their forms
    ("the Turks" ~ "Turkey"), acronyms by their initials; not a name that modifies an office ("the Kyrgyz
    president"), which the sentence may call by its holder's name."""
    m = _DATED_SUBJECT.match(without_context(question))
    if not m or (m.group(2) or "") in ROLE_TITLES or m.group(1).lower() in _DATE_NAMES:
        return False
    # Unlike a figure, a date is often told a sentence or two after its actor is named ("Sadyr Japarov travelled
    # to Batken. The new base was opened on 13 September"): those sentences count.
    before = [x.text for x in split_sentences(passage.text[: span.start]) if x.end <= span.start][-2:]
    return not _named_in(m.group(1), " ".join([passage.title, passage.heading or "", *before, span.text]))


# A month dates something when it is written as a date: capitalised, and next to a day or a year ("13 September",
# "April 2022") or after a word that introduces a time ("in March", "mid-September", "the May protests"). Not
# "Theresa May", "April Ryan", "Jan Egeland", nor "the march".
_TIME_WORDS = frozenset("in on during of since until by early late mid last next this the".split())


def _months(text: str) -> set[str]:
    """Month names in `text` written as dates (see the comment above), abbreviations resolved."""
    out = set()
    for m in re.finditer(r"[A-Za-z]+\.?", text):
        word = m.group().rstrip(".")
        month = _MONTHS.get(word.lower(), word.lower())
        if month not in MONTH_NAMES or not word[0].isupper():
            continue
        before = re.search(r"([A-Za-z]+|\d+)[\s\-]*$", text[: m.start()])
        after = re.match(r"[\s,]*(\d+|[A-Za-z]+)", text[m.end() :])
        prev = before.group(1) if before else ""
        dated = prev.isdigit() or (after is not None and after.group(1).isdigit()) or prev.lower() in _TIME_WORDS
        if dated:
            out.add(month)
    return out


# A month after one of these bounds a period ("since March", "between March and June", "after the April
# clashes"): sentences of other months belong to it.
_RANGE = re.compile(r"\b(?:since|after|before|until|till|between|from|through|to|by)\b(?:\s+\w+){0,2}\s*$", re.I)


def month_of_another_time(question: str, passage: Passage, span: Span) -> bool:
    """The question dates what it asks about by month ("How many people were killed in the April 2022
    clashes?") and the best sentence dates its statement by other months only ("the fighting that began in
    mid-September ... killed close to 100"), or, naming no month itself, stands in a passage that does
    ("139 further people were wounded" in a report on the September fighting): it answers for another time.
    False when the question names no month, asks for a date, bounds a period by the month, or neither the sentence
    nor its passage names a month."""
    own = without_context(question)
    if question_shape(own).kind == "date":  # "When did the protests that began in March end?" asks for a date
        return False
    asked = _months(own)
    if not asked or any(_RANGE.search(own[: m.start()]) for m in re.finditer(r"[A-Z][a-z]+", own)
                        if m.group().lower() in MONTH_NAMES or m.group().lower() in _MONTHS):
        return False
    stated = _months(span.text) or _months(" ".join([passage.title, passage.heading or "", passage.text]))
    return bool(stated) and not asked & stated
