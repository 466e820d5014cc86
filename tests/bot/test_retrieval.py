"""bot.retrieval.HybridRetriever on a real index: the lone exact-keyword match counts, results are reproducible."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.retrieval import FusionConfig, HybridRetriever, newest_day
from index.bm25 import Bm25Store
from index.ingest import Ingestor
from index.settings import Settings

REPO = Path(__file__).resolve().parents[2]
TOPICS = [
    "Kyrgyzstan bought Bayraktar TB2 drones from Turkey in 2021 and used them in the border clashes.",
    "Tajikistan says 41 people died in the fighting; Kyrgyzstan reports 59 dead and 139 injured.",
    "The Organization of Turkic States held a summit in Samarkand where the conflict was discussed.",
    "Turkey sells drones across Central Asia while keeping good relations with Russia.",
    "Analysts say the drones changed the balance of the border conflict between the two states.",
]
KEYWORD_DOC = "Maintenance log: unit XQ-5519 was serviced in spring; spare parts arrived late."


def corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(TOPICS):
        (root / f"topic{i}.md").write_text(f"# Topic {i}\n{text}\n")
    (root / "log.md").write_text(f"# Log\n{KEYWORD_DOC}\n")
    return root


def test_a_lone_bm25_match_is_ranked_first(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    """Issue 12: the only chunk with the exact keyword must not score like the chunks BM25 did not return. The
    other query words match nothing, so BM25 returns that one chunk; by meaning, the casualty chunk is nearer."""
    Ingestor(settings, embedder).run([corpus(tmp_path / "docs")])
    retriever = HybridRetriever(settings, embedder)
    question = "XQ-5519 casualties fatalities"
    retrieval = retriever.retrieve(question, top_k=3)
    assert len(retrieval.trace["bm25"]) == 1 and retrieval.trace["bm25_complete"] is True
    assert retrieval.passages[0].text.startswith("Maintenance log: unit XQ-5519")
    vector_first = retrieval.trace["vector"][0][0]
    assert not next(p for p in retrieval.passages if p.chunk_id == vector_first).text.startswith("Maintenance")
    # The old fusion (a lone hit standardised to 0, the floor of the absent) put the vector's favourite first.
    before = retriever._fuse(
        [(n, s) for n, s in _nodes(retriever, retrieval.trace["vector"])],
        [(n, s) for n, s in _nodes(retriever, retrieval.trace["bm25"])], bm25_complete=False)
    assert before[0].chunk_id == vector_first


def _nodes(retriever: HybridRetriever, pairs: list[list[Any]]) -> list[tuple[Any, float]]:
    from llama_index.core.schema import TextNode

    return [(TextNode(id_=cid, text=""), float(score)) for cid, score in pairs]


_RETRIEVE = """
import json, sys
from pathlib import Path
from bot.retrieval import FusionConfig, HybridRetriever, newest_day
from index.embeddings import LocalMiniLMEmbedding
from index.settings import Settings
settings = Settings(_env_file=None, data_dir=Path(sys.argv[1]))
r = HybridRetriever(settings, LocalMiniLMEmbedding()).retrieve(sys.argv[2], top_k=6)
print(json.dumps([[p.chunk_id, round(p.score, 6)] for p in r.passages]))
"""


def test_the_same_question_gets_the_same_passages_in_every_process(
    settings: Settings, embedder: Any, tmp_path: Path
) -> None:
    Ingestor(settings, embedder).run([corpus(tmp_path / "docs")])
    runs = {
        subprocess.run([sys.executable, "-c", _RETRIEVE, str(settings.data_dir), "How many people died?"],
                       capture_output=True, text=True, check=True, cwd=REPO).stdout
        for _ in range(3)
    }
    assert len(runs) == 1 and len(json.loads(runs.pop())) == 6


NEWS = {  # same story over the years; the oldest says it in the question's own words
    "water-2019.md": ("2019-06-02", "Corpus Christi in Texas is running out of water, officials warned this week."),
    "water-2026.md": ("2026-03-20", "Corpus Christi may run dry within months; the Texas city declared a water "
                                    "emergency on Friday."),
    "water-later.md": ("2026-04-20", "Corpus Christi in Texas is running out of water: rationing began Monday."),
}
UNDATED = "Water utilities in Texas publish their reservoir levels every morning."


def dated_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, (day, text) in NEWS.items():
        (root / name).write_text(f"---\ntitle: {name}\ndate: {day}\n---\n{text}\n")
    (root / "utilities.md").write_text(f"# Utilities\n{UNDATED}\n")
    return root


def test_as_of_excludes_later_documents_and_prefers_recent_ones(
    settings: Settings, embedder: Any, tmp_path: Path,
) -> None:
    """Issue 9 item 7: asked as of 2026-03-26, an article of 2026-04-20 did not exist yet, and "this week"
    means the 2026 article, not the 2019 one that repeats the question's words."""
    Ingestor(settings, embedder).run([dated_corpus(tmp_path / "news")])
    retriever = HybridRetriever(settings, embedder)
    question = "Which city in Texas is running out of water this week?"
    plain = retriever.retrieve(question, top_k=4)
    assert {p.date for p in plain.passages} >= {"2026-04-20", "2019-06-02"}
    assert plain.passages[0].date != "2026-03-20"  # without a date the recent article is not first

    dated = retriever.retrieve(question, top_k=4, as_of="2026-03-26")
    assert dated.passages[0].date == "2026-03-20"
    assert "2026-04-20" not in {p.date for p in dated.passages}  # did not exist yet, in either retriever
    assert any(p.text.startswith("Water utilities") for p in dated.passages)  # undated: kept
    assert dated.trace["as_of"] == "2026-03-26" and dated.trace["recency_weight"] == retriever.fusion.recency_weight

    # No time cue and the default (dev-tuned) uncued weight 0: the exclusion only, no reordering by date.
    untimed = retriever.retrieve("Which city in Texas is running out of water?", top_k=4, as_of="2026-03-26")
    assert "2026-04-20" not in {p.date for p in untimed.passages}
    assert untimed.trace["recency_weight"] == retriever.fusion.recency_weight_uncued


def test_this_week_without_a_date_prefers_the_newest_matches(
    settings: Settings, embedder: Any, tmp_path: Path,
) -> None:
    """Issue 9 item 7 without --as-of: "this week" in an archive means its newest week, so the cued prior is
    measured from the newest candidate's date (2026-04-20); nothing is excluded. An uncued question, or the
    prior switched off, keeps the plain fused order."""
    Ingestor(settings, embedder).run([dated_corpus(tmp_path / "news")])
    question = "Which city in Texas is running out of water this week?"
    retriever = HybridRetriever(settings, embedder)
    cued = retriever.retrieve(question, top_k=4)
    assert cued.trace["recency_reference"] == "2026-04-20"
    assert cued.trace["recency_weight"] == retriever.fusion.recency_weight
    dates = [p.date for p in cued.passages]
    assert dates[0] == "2026-04-20" and None in dates and len(dates) == 4  # newest first; nothing excluded

    off = HybridRetriever(settings, embedder, fusion=FusionConfig(recency_without_date=False))
    plain = off.retrieve(question, top_k=4)
    assert "recency_reference" not in plain.trace
    assert plain.passages[0].date == "2019-06-02"  # the old article that repeats the question's words
    uncued = retriever.retrieve("Which city in Texas is running out of water?", top_k=4)
    assert "recency_reference" not in uncued.trace


def test_newest_day_ignores_undated_impossible_and_future_dates() -> None:
    from llama_index.core.schema import TextNode

    nodes = [TextNode(id_=str(i), text="", metadata={"date_int": d})
             for i, d in enumerate((20190602, 0, 20261399, 20260320, 20300101))]
    assert newest_day(nodes, today=date(2026, 12, 8)) == date(2026, 3, 20)
    assert newest_day(nodes[:3], today=date(2026, 12, 8)) == date(2019, 6, 2)
    assert newest_day(nodes[1:3]) is None


def test_a_shared_sentence_embedder_gives_the_same_ranking_and_caches_the_question(
    settings: Settings, embedder: Any, tmp_path: Path,
) -> None:
    """Issue 9 item 8: with the answerer's SentenceEmbedder the question is embedded once per ask: the ranking
    is the one the plain embedder gives, and the scorer then finds the question's vector cached."""
    from bot.text.embedder import SentenceEmbedder

    Ingestor(settings, embedder).run([corpus(tmp_path / "docs")])
    question = "How many people died in the fighting?"
    plain = HybridRetriever(settings, embedder).retrieve(question, top_k=4)
    calls: list[list[str]] = []
    embed = SentenceEmbedder(embedder, cache_dir=settings.data_dir)

    def counting(texts: list[str]) -> Any:
        calls.append(texts)
        return embed(texts)

    shared = HybridRetriever(settings, embedder, query_embed=counting).retrieve(question, top_k=4)
    assert [p.chunk_id for p in shared.passages] == [p.chunk_id for p in plain.passages]
    assert calls == [[question]]
    embed.clear_memory()
    assert embed._disk is not None and question in embed._disk.get([question])  # persisted for the scorer
    embed.forget([question])
    assert embed._disk.get([question]) == {}


@pytest.mark.parametrize("damage", ["rows file deleted", "rows file garbled", "scores garbled"])
def test_a_damaged_bm25_snapshot_is_derived_again_from_chroma(
    settings: Settings, embedder: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    """BM25 is a cache of what Chroma holds: a damaged snapshot (a disk fault, a hand edit) costs a rebuild, not
    every question, and the keyword match it alone finds is still served."""
    Ingestor(settings, embedder).run([corpus(tmp_path / "docs")])
    store = Bm25Store(settings.data_dir, settings.collection)
    gen = store.snapshot_dir()
    assert gen is not None
    if damage == "rows file deleted":
        (gen / "rows.json").unlink()
    elif damage == "rows file garbled":
        (gen / "rows.json").write_text('["half a li')
    else:
        for npy in gen.glob("*.npy"):
            npy.write_bytes(b"not numpy")
    retrieval = HybridRetriever(settings, embedder).retrieve("XQ-5519 casualties fatalities", top_k=3)
    assert len(retrieval.trace["bm25"]) == 1
    assert retrieval.passages[0].text.startswith("Maintenance log: unit XQ-5519")
    assert "BM25 index" in caplog.text and "damaged" in caplog.text
