"""Questions as a Discord user might type them: the seed, corpus and new question sets lower-cased, without their
question mark. Correct = the bench's rule (bench/citations.py: answer and a cited quote hold the gold).

    python -m bench.lowercase --split dev     # tune on dev
    python -m bench.lowercase --split test    # measured once per change
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.citations import build, make_verifier, run_items, sample_corpus, seed_article, stored_chunks
from bench.splits import DATA


def lowered(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "question": item["question"].lower().strip().rstrip("?").strip()}


def run(split: str) -> dict[str, Any]:
    from index.embeddings import LocalMiniLMEmbedding

    embedder = LocalMiniLMEmbedding()
    tally = {"answerable": [0, 0], "unanswerable": [0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        for source, paths, own in (("seed", [seed_article()], "seed_qa"), ("corpus", [sample_corpus()], "corpus_qa")):
            engine, index = build(paths, Path(tmp) / source, embedder)
            items = [json.loads(line) for line in (DATA / f"{own}.{split}.jsonl").read_text().splitlines() if line]
            items += [q for line in (DATA / f"new_qa.{split}.jsonl").read_text().splitlines() if line
                      and (q := json.loads(line))["set"] == source]
            rows = run_items(engine, make_verifier(embedder), stored_chunks(index), [lowered(it) for it in items])
            for row in rows:
                key = "answerable" if row["answerable"] else "unanswerable"
                tally[key][0] += row["correct"] if row["answerable"] else row["refused"]
                tally[key][1] += 1
    (ok, n), (refused, m) = tally["answerable"], tally["unanswerable"]
    return {"split": split, "answerable_correct": f"{ok}/{n}", "unanswerable_refused": f"{refused}/{m}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    print(json.dumps(run(parser.parse_args().split)))


if __name__ == "__main__":
    main()
