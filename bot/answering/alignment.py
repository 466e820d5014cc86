"""Claim-to-span alignment and the deterministic checks a claim must pass against the span it quotes.

A claim (one answer sentence) is aligned to the best-matching sentence of a passage, extended to a neighbour
sentence when only the two together hold the claim's names and numbers. Against that span (not the whole
passage):
- facts: every name, number and date of the claim must be in the span (or the passage's title/heading/date);
- slots: a fact of the claim must not sit in a slot the span fills with a *different* fact of the same kind
  ("Kyrgyzstan became the first ..." vs "Turkmenistan became the first ..."; "139 people were killed" vs
  "59 people were killed and 139 others injured"). A slot is the nearest content word before or after the fact;
- polarity: the claim and the span's best-matching clause must agree on negation ("has not sealed" vs "has
  sealed") and on direction words ("increases" vs "decreases").
What these cannot see is listed in /work/notes/readme_verified.md (README "What 'verified' means").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from bot.text.sentences import Span
from bot.text.terms import (
    MONTH_NAMES,
    ROLE_TITLES,
    STOPWORDS,
    content_term_list,
    content_terms,
    name_present,
    normalise_number,
    same_name,
    stem,
    tokens,
    words,
)

NEGATORS = frozenset("not no never none nor neither cannot without lack lacks lacking absent fails fail".split())
# Opposite directions: a claim using one where its span uses the other contradicts it.
_OPPOSITES = [
    ("increase", "decrease"), ("increase", "reduce"), ("higher", "lower"), ("more", "less"), ("more", "fewer"),
    ("rise", "fall"), ("gain", "loss"), ("promote", "inhibit"), ("activate", "inhibit"), ("positive", "negative"),
    ("improve", "worsen"), ("enhance", "impair"), ("up", "down"), ("larger", "smaller"), ("greater", "smaller"),
    ("before", "after"), ("first", "last"), ("won", "lost"), ("accept", "reject"), ("allow", "ban"),
]  # fmt: skip
_OPPOSITE = {(stem(a), stem(b)) for a, b in _OPPOSITES} | {(stem(b), stem(a)) for a, b in _OPPOSITES}
_CLAUSE_CUT = re.compile(r"[,;:]\s+|\s+(?=(?:which|while|but|whereas|although|though)\b)|\s+[—–]\s+")
_SLOT_REACH = 3  # tokens between a fact and its slot word, stopwords included


@dataclass(frozen=True)
class Alignment:
    """Claim vs one passage: the aligned span (the footnote quote) and what the checks found there."""

    j: int  # passage index (0-based)
    quote: Span  # offsets into the passage text
    semantic: float  # cosine of the claim (or its clauses) with the span (or its clauses)
    lexical: float  # share of the claim's content terms (stems) in the span
    failures: tuple[str, ...]  # deterministic checks that failed: "missing: x", "swap: x for y", "negation"

    def score(self, semantic_weight: float) -> float:
        return semantic_weight * self.semantic + (1 - semantic_weight) * self.lexical


def clauses(text: str) -> list[str]:
    """Pieces of a sentence at commas, semicolons and clause words, of at least three words."""
    pieces = [p.strip() for p in _CLAUSE_CUT.split(text)]
    return [p for p in pieces if len(p.split()) >= 3 and p != text.strip()] if len(pieces) > 1 else []


_NOT_ONLY = re.compile(r"\bnot only\b|\bnot just\b")  # "not only X but also Y" affirms X


def negated(text: str) -> bool:
    low = _NOT_ONLY.sub(" ", text.lower().replace("’", "'"))
    return "n't" in low or any(w in NEGATORS for w in re.findall(r"[a-z]+", low))


def polarity_failures(claim: str, span: str) -> list[str]:
    """Negation or direction that the claim and the span's clause most like it disagree on."""
    c_terms = content_terms(claim)
    pieces = [span, *clauses(span)]
    best = max(pieces, key=lambda p: (len(c_terms & content_terms(p)), -len(p)))
    out = []
    # Negation is compared on the closest clause when the claim is negated (its negation must be there), and on
    # the whole span otherwise only when the closest clause carries it.
    if negated(claim) and not negated(best):
        out.append("negation: the claim is negated, its span is not")
    # The whole span, not only its closest clause: "Tax day ... falls on April 15 ... April 15 is not a federal
    # holiday" negates "Tax Day is a federal holiday" in its second sentence (RealTime QA test, SmolLM2).
    # `_negates_claim` counts a negation only where it governs words of the claim.
    elif not negated(claim) and _negates_claim(span, c_terms):
        out.append("negation: the span is negated, the claim is not")
    s_terms = {stem(w) for w in words(best)}
    c_stems = {stem(w) for w in words(claim)}
    for a, b in _OPPOSITE:
        if a in c_stems and b in s_terms and a not in s_terms and b not in c_stems:
            out.append(f"direction: the claim says {a!r}, its span {b!r}")
            break
    return out


_NEGATION_SCOPE = 5  # words after a negator that it governs ("not from circulating monocytes")


def _negates_claim(span: str, claim_terms: set[str]) -> bool:
    """The span negates something the claim asserts: a negator followed, within a few words, by one of the
    claim's content terms. "... originate during embryonic development and not from circulating monocytes" does
    not negate "macrophages are seeded before birth"; "has not sealed the deal" negates "has sealed the deal"."""
    ws = [w.lower().replace("’", "'") for w in words(_NOT_ONLY.sub(" ", span.lower()))]
    for i, w in enumerate(ws):
        if w in NEGATORS or w.endswith("n't"):
            scope = {stem(x) for x in ws[i + 1 : i + 1 + _NEGATION_SCOPE] if x not in STOPWORDS}
            if scope & claim_terms:
                return True
    return False


@dataclass(frozen=True)
class FactToken:
    text: str  # lowercased, possessive removed
    stem: str
    fact: str | None  # the fact this token is (name or normalised number), else None
    kind: str  # "name", "number" or ""


def fact_tokens(text: str, facts: set[str]) -> list[FactToken]:
    out = []
    for w in tokens(text):
        low = w.lower().replace("’", "'")
        low = low[:-2] if low.endswith("'s") else low
        if w[0].isdigit():
            n = normalise_number(w)
            out.append(FactToken(low, n, n, "number"))
            continue
        fact = next((f for f in facts if not f.isdigit() and same_name(low, f)), None)
        out.append(FactToken(low, stem(low), fact, "name" if fact else ""))
    return out


def _neighbour(tokens: list[FactToken], i: int, step: int) -> int | None:
    """Index of the nearest content (non-stopword, non-fact) token from i in direction `step`."""
    k = i + step
    while 0 <= k < len(tokens) and abs(k - i) <= _SLOT_REACH:
        t = tokens[k]
        if t.fact is None and t.text not in STOPWORDS:
            return k
        if t.fact is not None and t.kind == tokens[i].kind:  # another fact of the kind sits between
            return None
        k += step
    return None


def _filler(tokens: list[FactToken], k: int, step: int, kind: str) -> str | None:
    """The fact of `kind` next to token k in direction `step` (stopwords skipped), if any."""
    j = k + step
    while 0 <= j < len(tokens) and abs(j - k) <= _SLOT_REACH:
        t = tokens[j]
        if t.fact is not None:
            return t.fact if t.kind == kind else None
        if t.text not in STOPWORDS:
            return None
        j += step
    return None


def slot_failures(
    claim: str, span: str, claim_facts: set[str], span_facts: set[str],
    aliases: Mapping[str, frozenset[str]] | None = None,
) -> list[str]:
    """Facts of the claim that sit where the span has another fact of the same kind (a swap)."""
    c_tok = fact_tokens(claim, claim_facts)
    s_tok = fact_tokens(span, claim_facts | span_facts)
    out: list[str] = []
    for i, t in enumerate(c_tok):
        if t.fact is None or (i > 0 and c_tok[i - 1].text == "by"):  # passive agents move: not checked
            continue
        for step in (-1, 1):
            k = _neighbour(c_tok, i, step)
            if k is None:
                continue
            slot = c_tok[k].stem
            fillers = {_filler(s_tok, q, -step, t.kind) for q, s in enumerate(s_tok) if s.stem == slot}
            fillers.discard(None)
            if fillers and not any(
                f is not None and (same_fact(f, t.fact) or aliased(f, t.fact, aliases)) for f in fillers
            ):
                other = sorted(f for f in fillers if f is not None)[0]
                out.append(f"swap: the span has {other!r} where the claim has {t.fact!r}")
                break
        if out:
            break
    return out


def unquoted_terms(claim: str, quote: str) -> list[str]:
    """The claim's content words (stems) its quote does not hold, counted: a word the claim uses twice needs two
    in the quote ("the primary measure of incidence of acute rejection was 1-year incidence of acute rejection"
    against a quote naming acute rejection once says more than the quote). Another form of a name the quote uses
    counts as that name ("Tajikistan" for "the Tajik government"), as in the name check."""
    held, said = Counter(content_term_list(quote)), Counter(content_term_list(claim))
    extra, spare = said - held, list((held - said).elements())
    out = []
    for term in sorted(extra.elements()):
        match = next((i for i, q in enumerate(spare) if not term[0].isdigit() and same_name(term, q)), None)
        if match is None:
            out.append(term)
        else:
            spare.pop(match)
    return out


def same_fact(a: str, b: str) -> bool:
    return a == b or _rounded(a, {b}) or _rounded(b, {a}) or (not a.isdigit() and not b.isdigit() and same_name(a, b))


def missing_facts(
    claim_numbers: set[str], claim_names: set[str], span: str, meta: str,
    aliases: Mapping[str, frozenset[str]] | None = None, claim: str = "",
) -> list[str]:
    """The claim's numbers and names that the span (with the passage's title, heading and date) lacks. A name
    only the title holds is missing when the claim lists it beside names of the span ("members: Azerbaijan, ...,
    Uzbekistan, and Tajikistan" under a title naming Tajikistan): the title does not put it in that list. `aliases`
    are abbreviations the claim or passage defines (bot/text/abbreviations.py): "BIR" is in a span that says
    "break-induced ... replication" when "break-induced DNA replication (BIR)" was written, and the other way
    round. A whole number is in a span that states it with decimals ("76%" for "76.3%": rounding, not a swap)."""
    from bot.text.terms import lower_vocabulary, numbers

    nums = numbers(f"{span} {meta}")
    vocab = lower_vocabulary(f"{span} {meta}")
    out = [n for n in sorted(claim_numbers) if n not in nums and not _rounded(n, nums)]
    out += [n for n in sorted(claim_names) if not _name_in(n, vocab) and not _alias_in(n, vocab, aliases or {})]
    if claim and meta:
        own = lower_vocabulary(span)
        out += [n for n in sorted(claim_names) if n not in out and not _name_in(n, own)
                and not _alias_in(n, own, aliases or {}) and _listed_beside(claim, n, claim_names, own)]
    return out


def _listed_beside(claim: str, name: str, claim_names: set[str], span_vocab: set[str]) -> bool:
    """`name` sits in a list of the claim ("A, B and C") next to another name that the span holds."""
    ws = [w.lower().replace("’", "'") for w in words(claim)]
    for i, w in enumerate(ws):
        if not same_name(w, name):
            continue
        for step in (-1, 1):
            k = i + step
            while 0 <= k < len(ws) and ws[k] in ("and", "or"):
                k += step
            if 0 <= k < len(ws) and ws[k] != name and ws[k] in claim_names and _name_in(ws[k], span_vocab):
                return True
    return False


def _rounded(n: str, nums: set[str]) -> bool:
    if not n.isdigit():
        return False
    for x in nums:
        if "." in x and x.replace(".", "", 1).isdigit() and int(n) in (int(float(x)), round(float(x))):
            return True
    return False


def _alias_in(name: str, vocab: set[str], aliases: Mapping[str, frozenset[str]]) -> bool:
    stems = {stem(v) for v in vocab}

    def has(word: str) -> bool:
        return _name_in(word, vocab) or stem(word) in stems

    for short, long_terms in aliases.items():
        if short in (name, name + "s", name[:-1]) and all(has(t) for t in long_terms):
            return True
        if name in long_terms and _name_in(short, vocab):
            return True
    return False


def _name_in(name: str, vocab: set[str]) -> bool:
    """Whole-word name match, a plural of the name counting as the name ("Bayraktars" ~ "Bayraktar"). A
    hyphenated compound is present when each of its parts is, by name form or stem ("Aire-expressing" in
    "Aire expression ..."; "RANK-RANKL" in "RANK and RANKL"); a number part must be there as written."""
    forms = [name, name + "s"] + ([name[:-1]] if name.endswith("s") and len(name) > 3 else [])
    if any(name_present(f, vocab) for f in forms):
        return True
    parts = [x for x in name.split("-") if x]
    if len(parts) < 2:
        return False
    stems = {stem(v) for v in vocab}
    return all(x in vocab or (not x.isdigit() and (_name_in(x, vocab) or stem(x) in stems)) for x in parts)


def subject(text: str, facts: set[str]) -> str | None:
    """The name a sentence opens with (its grammatical subject, in the usual news sentence): the first name among
    its first few words, after an opening phrase like "In December 2020,"."""
    ws = [w.lower().replace("’", "'") for w in words(text)]
    if "," in text[:40]:  # "In April, following ..., X ...": start after the opening phrase
        head = words(text[: text.index(",")])
        if len(head) <= 4:
            ws = ws[len(head) :]
    for w in ws[:4]:
        w = w[:-2] if w.endswith("'s") else w
        hit = next((f for f in facts if not f.isdigit() and same_name(w, f)), None)
        if hit is not None and hit not in MONTH_NAMES:
            return hit
    return None


def subject_failures(
    claim: str, sentence: str, claim_names: set[str], sentence_names: set[str],
    aliases: Mapping[str, frozenset[str]] | None = None,
) -> list[str]:
    """The claim's subject is a name the span's sentence does not hold, where that sentence has another subject."""
    cs = subject(claim, claim_names)
    ss = subject(sentence, sentence_names)
    vocab = {w.lower() for w in words(sentence)}
    if cs and ss and not _related_names(cs, ss) and not _name_in(cs, vocab) and not aliased(cs, ss, aliases):
        return [f"swap: the span's subject is {ss!r}, the claim's {cs!r}"]
    return []


_TITLES = ROLE_TITLES
_TITLED_APPOSITION = re.compile(
    r"\b([A-Z][\w’'\-]*)\s+(" + "|".join(sorted(_TITLES)) + r")\s*,\s+([A-Z][\w’'\-]*(?:\s+[A-Z][\w’'\-]*)?)"
)
_CAP_RUN = re.compile(r"(?:[A-Z][\w’'\-]*\s+){2,}[A-Z][\w’'\-]*")


def _office_holders(span: str) -> dict[str, str]:
    """Person (last name, lowercased) -> the name modifying their title in the span: "Tajik Defence Minister
    Sherali Mirzo" gives mirzo -> tajik, "Turkish Defence Minister Hulusi Akar" akar -> turkish."""
    out: dict[str, str] = {}
    for m in _CAP_RUN.finditer(span):
        ws = [w.lower().replace("’", "'").removesuffix("'s") for w in m.group().split()]
        titles = [i for i, w in enumerate(ws) if w in _TITLES]
        if titles and 0 < titles[-1] < len(ws) - 1:
            out[ws[-1]] = ws[0]
    for m in _TITLED_APPOSITION.finditer(span):  # "his Turkish counterpart, Hulusi Akar"
        out.setdefault(m.group(3).split()[-1].lower().removesuffix("'s"), m.group(1).lower())
    return out


def role_failures(claim: str, span: str) -> list[str]:
    """The claim gives a person the office the span gives someone else: "The Turkish defense minister ... was
    Sherali Mirzo" where the span has "Tajik Defence Minister Sherali Mirzo" and "Turkish Defence Minister Hulusi
    Akar". Checked only when the span names both holders with different modifiers and the claim names one of
    them near a modifier + title of the other."""
    holders = _office_holders(span)
    if len(holders) < 2:
        return []
    ws = [w.lower().replace("’", "'").removesuffix("'s") for w in words(claim)]
    for i, w in enumerate(ws):
        title = next((k for k in range(i + 1, min(i + 4, len(ws))) if ws[k] in _TITLES), None)
        if title is None:
            continue
        others = [p for p, mod in holders.items() if mod == w]
        if not others or any(p in ws for p in others):
            continue
        for k in range(max(0, i - 6), min(len(ws), title + 9)):
            person = ws[k]
            if person in holders and holders[person] != w and holders[person] not in ws:
                return [f"role: the span's {w} {ws[title]} is {others[0]!r}, not {person!r}"]
    return []


def aliased(a: str, b: str, aliases: Mapping[str, frozenset[str]] | None) -> bool:
    """One is an abbreviation defined for a long form holding the other ("ots" / "organization")."""
    if not aliases:
        return False
    return any((s == a and b in ls) or (s == b and a in ls) for s, ls in aliases.items())


def _related_names(a: str, b: str) -> bool:
    """Forms of one name, or compounds sharing a part ("RANK-RANKL" / "RANKL", "MafA" / "MafA-transcriptional")."""
    if same_name(a, b):
        return True
    pa, pb = set(a.split("-")) - {""}, set(b.split("-")) - {""}
    return (len(pa) > 1 or len(pb) > 1) and any(same_name(x, y) for x in pa for y in pb if len(x) > 2 and len(y) > 2)
