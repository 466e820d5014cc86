"""Is an answer sentence a statement worth a footnote? The checks the verifier runs before it aligns anything:
fragments, questions, restated questions, talk about the sources, repeats, verbless phrases.

A footnote certifies what its sentence asserts. "Federal officials [1]", "When will the launch be [2]?", "The
Testaments arrived as a sequel to which hit show [3]" and "The name of the secretary-general is [4]." assert
nothing a quote can back, so they are never kept, whatever the passages say.
"""

from __future__ import annotations

import re
from typing import Any

from bot.text.pos import VERB_TAGS, has_verb, tags
from bot.text.terms import STOPWORDS, content_terms, same_text, stem, term_in, words

# "The documents don't say ...": a statement about the sources, which needs no footnote.
ABOUT_THE_SOURCES = re.compile(
    r"\b(passages?|documents?|sources?|context|texts?|provided information)\b[^.]{0,60}?"
    r"\b(do not|don't|does not|doesn't|did not|never|no longer)\b[^.]{0,20}?"
    r"\b(say|mention|state|contain|specify|include|give|provide|answer|address|name|discuss|cover)|"
    r"\bno (information|mention|details?)\b|\bnot (mentioned|stated|specified|given|named)\b|"
    r"\bcould not find\b|\bcan't find\b|\bcannot find\b",
    re.I,
)
# A sentence of at most this many words needs a verb to be kept ("Federal officials", "Kim Kardashian": SmolLM2's
# verbless answers to the news dev questions were 1-6 words). Longer verbless sentences are left to the other
# checks: the tagger misses verbs there ("The ages of those sickened range from 1 to 89", news-mutation dev true
# pairs: 50 of 2045 have no verb tag, 26 of them over 8 words, mostly statements; 24 at most 8, mostly bylines and
# headlines). Hand-set from that dev listing (python -m bench.verifier --only news --split dev).
VERBLESS_MAX_WORDS = 8
_META = re.compile(r"^\W*(?:the|this|that)\s+(?:passages?|documents?|answer|text|question|summary)\b", re.I)
# A sentence that stops where its answer should be: "The name of the secretary-general is [1]."
DANGLING = frozenset(
    "is are was were be been being am has have had will would can could should of to in on at by for with from "
    "the a an and or but as than that which who whose named called not no also into onto about over under "
    "between against through during including such its their his her".split()
)


def not_a_statement(claim: str) -> str:
    """Why the sentence is not a statement ("" when it is one): it ends on a function word, or is too short."""
    ws = [w.lower() for w in words(claim)]
    if not any(len(w) > 1 and w[0].isalpha() for w in ws):  # "2022-09-26", "10.": a number is not a statement
        return "a fragment: no words, only numbers"
    if _META.match(claim):  # SmolLM2: "The passage is a sample passage from the document ...", "The answer is:"
        return "a fragment: it talks about the passages or the answer, not about what they say"
    if is_question(claim):  # SmolLM2 over news asked questions back ("When will Artemis 2 launch?")
        return "a question, not a statement"
    if ws and ws[-1] in DANGLING:
        return f"a fragment: it ends on {ws[-1]!r}"
    if claim.rstrip(" \"'”’").endswith(":") and not has_verb(claim):
        # "The link between past exposure to ... and prevalent anxiety:" (a heading); a lead-in with a verb
        # ("In February 2021 Kyrgyzstan concluded an agreement ... covering two kinds of equipment:") states a fact
        return "a heading: a phrase introducing something, not a statement"
    if _JUDGEMENT.search(claim):  # '"Evidence was lacking for ..." is not true.' (SmolLM2 on SciFact)
        return "a judgement about a statement, not a statement"
    if len([w for w in ws if w not in STOPWORDS]) < 2:
        return "a fragment: fewer than two content words"
    return ""


# A sentence that grades another one ("... is not true.", "... is a fact."): SmolLM2 quotes a passage and then
# judges it, and its footnote would certify the judgement (set 1 of bench.real_llm --scifact).
# Only a judgement of a quotation or of "this/the statement" counts: "... confirmed that accounts of Turkish
# drone deliveries were correct." is a statement (seed mutation dev).
_JUDGEMENT = re.compile(
    r"(?:[\"”]|^\W*(?:this|that|it|the (?:statement|claim|sentence|passage|answer|above)))\s*"
    r"(?:is|are|was|were)\s+(?:not\s+)?(?:true|false|correct|incorrect|accurate|inaccurate|right|wrong|a fact)"
    r"[\s.!\"'”’]*$",
    re.I,
)


def is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"'”’)»").endswith("?")


# "which state", "what hit show": the wh-word and the one or two words after it (found on RealTime QA test:
# "... involved in a rollover crash in which state." restated "... in which state?").
_WH_PHRASE = re.compile(r"\b(?:which|what|how many|how much)(?:\s+[\w’'-]+){1,2}", re.I)


def echoes_question(claim: str, question: str) -> str:
    """The claim repeats the question's "which/what X Y" phrase: it restates the question instead of answering
    it (SmolLM2: "The Testaments arrived on TV screens as a sequel to which hit show, and ..."). "who" is left
    out: it opens relative clauses in statements too."""
    low = " ".join(re.findall(r"[\w’'-]+", claim.lower()))
    for m in _WH_PHRASE.finditer(question):
        phrase = " ".join(m.group().lower().split())
        if re.search(rf"\b{re.escape(phrase)}\b", low):
            return f"restates the question ({phrase!r}) instead of answering it"
    return ""




# Question words about when, not what: the as-of date answers them, no quote has to ("this week", "recently").
_WHEN = frozenset(stem(w) for w in "week weeks month months year years recent recently latest current currently "
                  "today yesterday".split())
# Share of the left-out predicate a bare answer's quote must hold. Hand-set at half (one of "rumor merger talk"
# found in "merger-related" is not enough); checked on the dev drafts (bench.real_llm seed/corpus + news dev):
# no kept true claim there is a bare answer whose quote holds less.
PREDICATE_SHARE = 0.5


def left_to_question(claim: str, question: str) -> set[str]:
    """The question's terms that a bare answer leaves to the question, or an empty set when the claim is not one.
    A bare answer says only "X is Y": no verb but "be", and names or numbers the question lacks added to words all
    taken from the question ("The two airlines are American and
    Delta." for "Which two airlines are rumored to be in merger talks?"): it asserts the question's predicate
    ("rumored to be in merger talks") without saying it, so its quote must say it. SmolLM2's answer was kept with
    a quote about the two airlines' rivalry (RealTime QA test weeks)."""
    c_terms, q_terms = content_terms(claim), content_terms(question)
    plain = content_terms(" ".join(w for w in words(claim) if not w[:1].isupper() and not w[:1].isdigit()))
    added = {t for t in c_terms - plain if not term_in(t, q_terms)}  # its answer: names or numbers not asked
    if not added or not all(term_in(t, q_terms) for t in plain) or _content_verb(claim):
        return set()
    return {t for t in q_terms if not term_in(t, c_terms) and t not in _WHEN}


_COPULAS = frozenset("is are was were be been being am 's 're".split())


def _content_verb(claim: str) -> bool:
    """A verb other than "be": the claim states its own predicate ("The Kyrgyz say 59 people were killed.")."""
    return any(tag in VERB_TAGS and word.lower() not in _COPULAS for word, tag in tags(claim))


def predicate_missing(left: set[str], quote: str) -> bool:
    """The quote (with its title) holds less than PREDICATE_SHARE of what the bare answer left to the question."""
    if not left:
        return False
    terms = content_terms(quote)
    parts = {p for t in terms for p in t.split("-")} | terms  # "merger-related" holds "merger"
    return sum(1 for t in left if term_in(t, parts)) < PREDICATE_SHARE * len(left)


def stranded_as_quoted(claim: str, alignments: Any) -> bool:
    """A sentence ending on a function word is a statement when a span it aligns with ends the same way: English
    strands prepositions ("... two states it wants good relations with.") and ends on pronouns and auxiliaries
    ("... it jumped out at her.", "... even if the shutdown nearly is."; news-mutation dev: 9 true sentences
    dropped as fragments before this took every such word, not only prepositions). A cut-off model sentence ("The
    drones were delivered to [1].", "The name of the secretary-general is [1].") has no such span."""
    ws = [w.lower() for w in words(claim)]
    if not ws or ws[-1] not in DANGLING or claim.rstrip().endswith(":"):
        return False  # "Its founding members alongside Turkey are:" is a lead-in without its list: it says nothing
    for a in alignments:
        tail = [w.lower() for w in words(a.quote.text)][-3:]
        if tail and tail == ws[-len(tail):] and not a.failures:
            return True
    return False


def repeats(claim: str, earlier: str) -> bool:
    """`claim` says again what an earlier kept sentence said: the same text, or the same content terms."""
    if same_text(claim, earlier):
        return True
    a, b = content_terms(claim), content_terms(earlier)
    return bool(a) and a <= b


def verbless(claim: str) -> bool:
    """A short sentence without a verb, or a verbless list of names of any length: a name, a phrase or a list
    ("Cheyenne, Wyoming Wilmington, North Carolina Urban Honolulu, Hawaii ..." kept for "Which of the following
    cities has the world's worst air?", RealTime QA test weeks), not a statement (see VERBLESS_MAX_WORDS)."""
    return (len(claim.split()) <= VERBLESS_MAX_WORDS or _mostly_names(claim)) and not has_verb(claim)


# Share of capitalised words (after the first, stopwords aside) that makes a verbless sentence a list of names.
# Hand-set at a clear majority; news-mutation dev true sentences are the check that it drops no statement.
NAME_LIST_SHARE = 0.6


def _mostly_names(claim: str) -> bool:
    ws = [w for w in words(claim)[1:] if w[:1].isalpha() and w.lower() not in STOPWORDS]
    return len(ws) >= 4 and sum(w[:1].isupper() for w in ws) >= NAME_LIST_SHARE * len(ws)
