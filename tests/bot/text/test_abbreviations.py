from __future__ import annotations

from bot.text.abbreviations import abbreviations


def test_a_definition_maps_the_short_form_to_its_long_form_words() -> None:
    assert abbreviations("RAD52 is involved in break-induced DNA replication (BIR).") == {
        "bir": frozenset({"break-induced", "dna", "replication"})
    }
    assert abbreviations("carriers of the Apolipoprotein E4 (APOE4) allele")["apoe4"] == {"apolipoprotein", "e4"}
    assert abbreviations("embryonic stem cells (ESCs) were derived")["escs"] == {"embryonic", "stem", "cells"}


def test_parentheses_that_define_nothing_are_ignored() -> None:
    assert abbreviations("the drones (see below) and the tank (T-72 model)") == {}
    # The letters must appear in order, the first at a word start: "Tajikistan (KG)" defines nothing.
    assert abbreviations("Tajikistan (KG) bought drones") == {}


def test_a_long_form_opening_with_a_stopword_takes_the_word_before() -> None:
    assert abbreviations("the Organization of Turkic States (OTS) with")["ots"] == {"organization", "turkic", "states"}
