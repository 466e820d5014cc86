"""Checks of a claim against a span it copies closely, where word positions mean something, and of ranks.

An LLM most often gets a fact wrong by copying a sentence of its passage and changing one thing in it: another
name or number of the same passage put in the slot ("Kyrgyzstan became the first ..." where the span says
"Turkmenistan became the first ..."), two names exchanged, a negation added or dropped. The bag-of-facts checks of
`bot.answering.alignment` miss it when the claim's fact also occurs elsewhere in the span or in the title; the
token alignment here sees it. Found by the news-article mutation bench (`python -m bench.verifier --only news`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.answering.alignment import NEGATORS, FactToken, aliased, fact_tokens, same_fact
from bot.text.terms import STOPWORDS, TENS_WORDS

# A claim copied from its span with one fact changed is the LLM error this catches: the two token sequences are
# aligned (difflib), and a short replaced stretch that puts a different name/number where the span has one is a
# swap, wherever else the span or the title mentions the claim's fact ("Kyrgyzstan became the first ..." vs
# "Turkmenistan became the first ..., and Kyrgyzstan ..."; "President of the Hungary" under a title naming
# Hungary). Only where the claim follows its span closely (VERBATIM_SHARE of its tokens matched in order):
# elsewhere positions say nothing. Hand-set, then checked on the news-mutation and SciFact dev splits.
VERBATIM_SHARE = 0.5
_MAX_REPLACED = 4  # tokens on each side of a replaced stretch: a name is at most about this long
_CONJUNCTIONS = frozenset(("and", "or", "nor", "&"))
_NEGATION_EDIT = 2  # "not", "never", "did not" / "didn't have" for "had"


def verbatim_failures(
    claim: str, span: str, claim_facts: set[str], span_facts: set[str],
    aliases: Mapping[str, frozenset[str]] | None = None,
) -> list[str]:
    """Against a span the claim copies closely: a fact of the claim put where the span has a different fact of
    the same kind; two facts of the span exchanged across a content word ("Intel ... buying Tower" vs "Tower ...
    buying Intel"; facts in a coordination, "A and B" vs "B and A", are not an exchange); a negation added or
    dropped."""
    from difflib import SequenceMatcher

    c_tok = fact_tokens(claim, claim_facts)
    s_tok = fact_tokens(span, claim_facts | span_facts)
    if not c_tok or not s_tok:
        return []

    def key(t: FactToken) -> str:
        return t.fact or t.stem

    matcher = SequenceMatcher(None, [key(t) for t in c_tok], [key(t) for t in s_tok], autojunk=False)
    if sum(b.size for b in matcher.get_matching_blocks()) < VERBATIM_SHARE * len(c_tok):
        return []

    def same(a: str, b: str) -> bool:
        return same_fact(a, b) or aliased(a, b, aliases)

    claim_fact_at = {i: t.fact for i, t in enumerate(c_tok) if t.fact}
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        # A negator added or dropped in a short stretch the claim otherwise copies ("... until the claim is not
        # resolved", "People just never seemed to accept ..."). Not a longer stretch: a claim may leave out a
        # clause of its span that holds a negation ("X rose, but Y did not").
        short = i2 - i1 <= _NEGATION_EDIT and j2 - j1 <= _NEGATION_EDIT
        if short and _has_negator(c_tok[i1:i2]) != _has_negator(s_tok[j1:j2]):
            added = "adds" if _has_negator(c_tok[i1:i2]) else "drops"
            return [f"negation: the claim {added} a negation its span does not have"]
        if op != "replace" or i2 - i1 > _MAX_REPLACED or j2 - j1 > _MAX_REPLACED:
            continue
        span_side = s_tok[j1:j2]
        for t in c_tok[i1:i2]:
            if t.fact is None or any(u.fact and same(u.fact, t.fact) for u in span_side):
                continue
            # A name put in place of a plain word ("Leo several on the block ..." for "Today several on the
            # block ..."): the claim names someone the copied sentence does not.
            if all(u.fact is None for u in span_side) and any(u.text not in STOPWORDS for u in span_side) and not any(
                same(f, t.fact) for f in span_facts
            ):
                return [f"swap: the claim puts {t.fact!r} where its span has {span_side[0].text!r}"]
            for u in span_side:
                if u.fact is None or u.kind != t.kind or any(
                    v.fact and same(v.fact, u.fact) for v in c_tok[i1:i2]
                ):
                    continue
                elsewhere = [i for i, f in claim_fact_at.items() if same(f, u.fact) and not i1 <= i < i2]
                if not elsewhere:
                    return [f"swap: the span has {u.fact!r} where the claim has {t.fact!r}"]
                other = elsewhere[0]
                between = c_tok[i2:other] if other >= i2 else c_tok[other + 1 : i1]
                # A list ("Estonia, Lithuania and Latvia") holds only names and conjunctions between them.
                if any(b.fact is None and b.text not in _CONJUNCTIONS for b in between):
                    return [f"swap: the claim exchanges {t.fact!r} and {u.fact!r}"]
    return []


_ORDINALS = {w: i for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split(), 1)}
_ORDINAL_DIGITS = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I)




_COMPOUND_ORDINAL = re.compile(r"\b(" + "|".join(TENS_WORDS) + r")[-\s](" + "|".join(_ORDINALS) + r")\b")


def _ordinals(text: str) -> set[int]:
    low = text.lower()
    found = {TENS_WORDS[m.group(1)] + _ORDINALS[m.group(2)] for m in _COMPOUND_ORDINAL.finditer(low)}
    found |= {_ORDINALS[w] for w in re.findall(r"[a-z]+", _COMPOUND_ORDINAL.sub(" ", low)) if w in _ORDINALS}
    return found | {int(m.group(1)) for m in _ORDINAL_DIGITS.finditer(text)}


def ordinal_failures(claim: str, span: str) -> list[str]:
    """The claim ranks something with an ordinal its span does not have, where the span has another one: "the
    first major of the season" backed by "golf's fifth major" (SmolLM2 over news, copying the question's
    premise). An ordinal alone is not required to be in the span ("for the first time" is often paraphrased)."""
    c, s = _ordinals(claim), _ordinals(span)
    if c - s and s - c:
        return [f"swap: the span has ordinal {min(s - c)} where the claim has {min(c - s)}"]
    return []


def _has_negator(tokens: list[FactToken]) -> bool:
    return any(t.text in NEGATORS or t.text.endswith(("n't", "n’t")) for t in tokens)
