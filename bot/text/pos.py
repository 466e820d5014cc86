"""Part-of-speech tags, offline: is a sentence a statement (has a finite verb) or only a noun phrase?

A footnote on "Federal officials [1]" or "Kim Kardashian [2]" (SmolLM2's answers to news questions) certifies
nothing a reader can check: the phrase asserts nothing, and its quote mentions the name in another context. The
verifier keeps only sentences with a verb, and telling "The agreement Tajikistan and Turkey signed in Ankara" (a noun
phrase) from "Tajikistan and Turkey signed an agreement in Ankara" needs tags, not word lists.

The tagger is NLTK's averaged perceptron (`nltk.tag.perceptron`, already a dependency through llama-index) with
the weights Matthew Honnibal trained on the Wall Street Journal (MIT), shipped inside the PyPI package
`textblob-aptagger` as a pickle: nothing is downloaded at run time. (NLTK's own tagger weights are a hub download
that fails offline.) Only the weights file is read; the package's code is not imported. Loading takes ~0.15 s,
once per process, on the first claim checked.
"""

from __future__ import annotations

import importlib.util
import pickle
import re
from functools import cache
from pathlib import Path
from typing import Any

_WEIGHTS_PACKAGE = "textblob_aptagger"
_WEIGHTS_FILE = "trontagger-0.1.0.pickle"
# Any verb form. Finite verbs alone (VBD VBZ VBP MD) would be the grammar, but these weights (trained on a small
# treebank) often tag a past tense as a participle ("The band paid tribute": paid/VBN) and a headline's verb as a
# plural noun: measured on the news-mutation dev true pairs, finite-only dropped 133 of 2045 true sentences. What
# must go is the claim with no predicate at all ("ICE agents", "The Housemaid's real name").
VERB_TAGS = frozenset(("VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "MD"))
# Penn Treebank tokens, as the tagger was trained on: clitics split off ("It's" -> "It" "'s", "don't" -> "do"
# "n't"), punctuation on its own.
_TOKEN = re.compile(r"\w+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|\w+(?:[.\-]\w+)*|[^\w\s]", re.I)


@cache
def _tagger() -> Any:
    from nltk.tag.perceptron import PerceptronTagger

    spec = importlib.util.find_spec(_WEIGHTS_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise RuntimeError(f"the POS tagger's weights are missing: install the package {_WEIGHTS_PACKAGE!r}")
    with (Path(locations[0]) / _WEIGHTS_FILE).open("rb") as fh:
        # A pickle of plain dicts and a set (weights, tag dictionary, classes) written in 2013 by Python 2.
        weights, tagdict, classes = pickle.load(fh, encoding="latin1")
    tagger = PerceptronTagger(load=False)
    tagger.model.weights, tagger.model.classes = weights, classes
    tagger.tagdict, tagger.classes = tagdict, classes
    return tagger


def tags(text: str) -> list[tuple[str, str]]:
    """(token, Penn Treebank tag) for each token of `text` (punctuation as its own tokens)."""
    toks = _TOKEN.findall(text.replace("’", "'"))
    return list(_tagger().tag(toks)) if toks else []


def has_verb(text: str) -> bool:
    """Whether `text` holds a verb (any form): it predicates something, rather than only naming it."""
    return any(tag in VERB_TAGS for _, tag in tags(text))
