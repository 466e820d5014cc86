"""bot.retrieval.HybridRetriever on a real index: the lone exact-keyword match counts, results are reproducible."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.retrieval import HybridRetriever
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
from bot.retrieval import HybridRetriever
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
