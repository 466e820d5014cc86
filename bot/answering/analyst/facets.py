"""Facets of a comparison table: is a facet a person's title ("roles", "titles"), does a sentence give the
title next to the row's name, what is the facet's head noun, and does a section heading name the facet."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.answer import Passage
from bot.text.terms import ROLE_TITLES, content_term_list, content_terms, stem, term_in

# "Compare A and B on their roles / titles / jobs": the cell is a sentence giving the person's title next to
# their name ("President Sadyr Japarov", "Jeenbek Kulubaev, Kyrgyzstan's foreign minister", "Kerim Has is a
# Turkish academic"), whatever else the sentence is about. Hand-written lists, not tuned.
_ROLE_FACET = frozenset(stem(w) for w in "role title job position post office occupation profession function".split())
# Offices (shared with the extractive answer and the verifier) and occupations that name a person by their job.
_TITLE_WORDS = ROLE_TITLES | frozenset(
    "academic analyst professor expert leader head officer official editor journalist founder owner deputy "
    "lawmaker speaker king queen chair chairperson".split()
)


def _is_title(word: str) -> bool:
    low = word.lower()
    return low in _TITLE_WORDS or (low.endswith("s") and low[:-1] in _TITLE_WORDS)


# "Compare A and B on country / nationality": a person's country is the demonym or country next to their name
# ("Tajik Defence Minister Sherali Mirzo", dev n88). Hand-written list, not tuned.
_COUNTRY_FACET = frozenset(stem(w) for w in "country countries nationality nationalities citizenship".split())
_PARTY_WORD = re.compile(r"[A-Z][a-z]+(?:stan|ish|ian|ese|ey|ia|yz|ik)(?:['’]s)?")


def country_facet(facet_terms: set[str]) -> bool:
    """Is the facet a person's country and nothing else ("countries", "nationality")?"""
    return bool(facet_terms) and facet_terms <= _COUNTRY_FACET


def placed(text: str, entity: str) -> bool:
    """Does a demonym or country name stand within four words of where `text` names `entity`?"""
    return _near_name(text, entity, lambda w: _PARTY_WORD.fullmatch(w) is not None)


def titled(text: str, entity: str) -> bool:
    """Does a title word stand within four words of where `text` names `entity`? The entity is its capitalised
    words, matched as written and in order ("Border Watch", not "border guards' ... watch"); a possessive
    ending of the last one is allowed ("Erdogan's")."""
    return _near_name(text, entity, _is_title)


def _near_name(text: str, entity: str, near: Callable[[str], bool]) -> bool:
    words = re.findall(r"[\w’'\-]+", text)
    name = [w for w in entity.split() if w[:1].isupper()] or [entity.split()[-1]]
    n = len(name)

    def bare(w: str) -> str:
        return w.removesuffix("'s").removesuffix("’s")

    at = [
        k for k in range(len(words) - n + 1) if words[k : k + n - 1] == name[:-1] and bare(words[k + n - 1]) == name[-1]
    ]
    return any(near(words[j]) for k in at for j in range(max(0, k - 4), min(len(words), k + n + 4)))


def role_facet(facet_terms: set[str]) -> bool:
    """Is the facet a person's title and nothing else ("roles", "their jobs", "titles")? "role in the
    conflict" or "position on the dispute" asks what the row did or holds on something: read as any facet."""
    return bool(facet_terms) and facet_terms <= _ROLE_FACET


# A facet's complement starts at its first preposition: "role in the conflict", "membership of the OTS".
_COMPLEMENT = re.compile(r"\s(?:of|in|on|to|for|with|from|about|by|at|against|over|between|during)\s", re.I)


def facet_head(facet: str, facet_terms: set[str]) -> str | None:
    """The facet's head noun: its last content term before any complement ("drone purchases" -> "purchas",
    "membership of the OTS" -> "membership"); None when it has none."""
    core = _COMPLEMENT.split(f" {facet} ", maxsplit=1)[0]
    heads = [t for t in content_term_list(core) if t in facet_terms] or [
        t for t in content_term_list(facet) if t in facet_terms
    ]
    return heads[-1] if heads else None


def headed(passage: Passage, facet_terms: set[str], head: str | None) -> bool:
    """Does the passage's section heading name the facet: its head noun, or all its words? A shared modifier
    is not enough: "Drone strikes" is no section on "drone purchases"."""
    heading = content_terms(passage.heading or "")
    if not heading or not facet_terms:
        return False
    return (head is not None and term_in(head, heading)) or all(term_in(t, heading) for t in facet_terms)


def with_holders(facet_terms: set[str]) -> set[str]:
    """The facet's terms plus, for a "-ship" noun, who holds it: "membership" is stated as "members",
    "leadership" as "leader", "ownership" as "owner" ("Its founding members alongside Turkey are:" is the OTS
    membership cell, dev n69). The stemmer keeps the "-ship" noun whole, and a general "-ship" match would pair
    verbs too ("lead" ~ "leadership"): only the noun before "-ship" is added."""
    out = set(facet_terms)
    for t in facet_terms:
        if t.endswith("ship") and len(t) >= 8:
            out.add(stem(t[: -len("ship")]))
    return out
