"""The committed question sets are well formed: fixed dev/test splits that match their rule, unique ids, no item in
both splits, and every gold string actually occurs in the text it is graded against (the seed article, the sample
corpus, or the named corpus documents) -- so a gold cannot silently rot when a document is edited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.citations import sample_corpus, seed_article
from bench.metrics import contains
from bench.splits import DATA, SPLIT_SETS, read_jsonl, realtimeqa_weeks, render, split_items, split_path

QUESTION_FILES = [f"{n}.{s}.jsonl" for n in SPLIT_SETS for s in ("dev", "test")] + [
    "new_qa.dev.jsonl", "new_qa.test.jsonl"]
CHAIN_FILES = ["chains.dev.jsonl", "chains.test.jsonl"]


def _corpus_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(sample_corpus().glob("*.md"))}


def _source(item: dict[str, Any], default_set: str) -> list[str]:
    if item.get("set", default_set) == "seed":
        return [seed_article().read_text(encoding="utf-8")]
    docs = _corpus_texts()
    named = item.get("docs") or []
    return [docs[d] for d in named] if named else list(docs.values())


def _default_set(name: str) -> str:
    return "seed" if name.startswith("seed_qa") else "corpus"


def _check_gold(item: dict[str, Any], texts: list[str], where: str) -> None:
    gold = item.get("gold") or []
    assert bool(gold) == bool(item["answerable"]), f"{where}: answerable items have gold, others none"
    for g in gold:
        assert any(contains(t, g) for t in texts), f"{where}: gold {g!r} not in its source"


@pytest.mark.parametrize("name", SPLIT_SETS)
def test_split_files_follow_the_rule(name: str) -> None:
    parts = split_items(read_jsonl(DATA / f"{name}.jsonl"))
    for split, items in parts.items():
        assert split_path(name, split).read_text(encoding="utf-8") == render(items)
    dev, test = ({it["id"] for it in parts[s]} for s in ("dev", "test"))
    assert dev and test and not dev & test
    for split in ("dev", "test"):  # both strata on both sides
        assert {bool(it["answerable"]) for it in parts[split]} == {True, False}


@pytest.mark.parametrize("name", QUESTION_FILES)
def test_question_golds_occur_in_their_sources(name: str) -> None:
    items = read_jsonl(DATA / name)
    assert len({it["id"] for it in items}) == len(items)
    for it in items:
        _check_gold(it, _source(it, _default_set(name)), f"{name}:{it['id']}")


def test_new_questions_cover_the_kinds_asked_for() -> None:
    items = read_jsonl(DATA / "new_qa.test.jsonl")
    assert len(items) >= 60
    kinds = {it["type"] for it in items}
    for kind in ("who", "what", "when", "how-many", "why", "comparison", "summary", "two-document",
                 "unanswerable", "off-topic", "injection"):
        assert kind in kinds, kind
    assert {it["set"] for it in items} == {"seed", "corpus"}
    seen = {it["question"].lower() for n in QUESTION_FILES[:-1] for it in read_jsonl(DATA / n)}
    assert not [it["id"] for it in items if it["question"].lower() in seen], "new questions must be new"


@pytest.mark.parametrize("name", CHAIN_FILES)
def test_chain_turns_have_golds_in_their_sources(name: str) -> None:
    chains = read_jsonl(DATA / name)
    assert len({c["id"] for c in chains}) == len(chains)
    for c in chains:
        assert 3 <= len(c["turns"]) <= 4, c["id"]
        for i, turn in enumerate(c["turns"]):
            _check_gold(turn, _source(c, "corpus"), f"{name}:{c['id']}[{i}]")


def test_dev_and_test_chains_do_not_share_questions() -> None:
    dev, test = ({t["question"].lower() for c in read_jsonl(DATA / n) for t in c["turns"]} for n in CHAIN_FILES)
    assert not dev & test


def test_realtimeqa_weeks_split_is_disjoint(tmp_path: Path) -> None:
    dev, test = realtimeqa_weeks("dev"), realtimeqa_weeks("test")
    assert dev and test and not set(dev) & set(test)
    assert json.loads((DATA / "realtimeqa_split.json").read_text(encoding="utf-8"))["dev"] == dev
    with pytest.raises(ValueError, match="unknown split"):
        realtimeqa_weeks("train")


def test_sample_corpus_has_no_navigation_sentences() -> None:
    """Sentences that only point at other notes ("... is covered in the note on ...") carry no fact and used to
    be cited as answers (issue 9)."""
    import re

    pointer = re.compile(r"\b(?:covered|described|treated|collected|recorded) in (?:the|a|other|separate) notes?\b"
                         r"|\bnotes? (?:on|in this collection)\b", re.I)
    for name, text in _corpus_texts().items():
        assert not pointer.search(text), (name, pointer.search(text))
