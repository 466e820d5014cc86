"""Fixed dev/test splits of every question set: tune on dev, report both, gate on test only.

    python -m bench.splits          # check that the committed split files match the rule below (exit 1 if not)
    python -m bench.splits --write  # (re)write them from the unsplit originals -- only when the originals change

The rule (deterministic, by id, stratified by `answerable`): within each stratum (answerable / not) the items
are sorted by id and alternate dev, test, dev, test ... starting with dev. So each split keeps about half of
both strata and spans the whole range of ids (the sets are written in topic order: casualties, drones, OTS ...).

- tests/data/seed_qa.jsonl   -> seed_qa.dev.jsonl / seed_qa.test.jsonl   (questions on ../shared/seed/*.txt)
- tests/data/corpus_qa.jsonl -> corpus_qa.dev.jsonl / corpus_qa.test.jsonl (questions over examples/corpus)
- new_qa.test.jsonl, chains.test.jsonl: written after the split, in the test split from the start (never tuned on);
  chains.dev.jsonl: a few follow-up chains for developing the rewriter.
- RealTime QA dev weeks: split by week (tests/data/realtimeqa_split.json): dev = 20260327 + 20260410,
  test = 20260403 + 20260417 -- 30 questions each; 24 dev / 23 test answerable (gold string in the pooled corpus).
  The corpus stays pooled over all four weeks (retrieval must find the right week's article among all).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.datasets import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data"
SPLITS = ("dev", "test")
SPLIT_SETS = ("seed_qa", "corpus_qa")
RTQA_SPLIT_FILE = DATA / "realtimeqa_split.json"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def split_items(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    for answerable in (True, False):
        stratum = sorted((it for it in items if bool(it["answerable"]) == answerable), key=lambda it: it["id"])
        for i, item in enumerate(stratum):
            out[SPLITS[i % 2]].append(item)
    return {s: sorted(v, key=lambda it: it["id"]) for s, v in out.items()}


def split_path(name: str, split: str) -> Path:
    return DATA / f"{name}.{split}.jsonl"


def render(items: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items)


def realtimeqa_weeks(split: str) -> list[str]:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (use one of {SPLITS})")
    weeks: list[str] = json.loads(RTQA_SPLIT_FILE.read_text(encoding="utf-8"))[split]
    return weeks


def main(argv: list[str]) -> int:
    write = "--write" in argv
    stale = []
    for name in SPLIT_SETS:
        parts = split_items(read_jsonl(DATA / f"{name}.jsonl"))
        for split, items in parts.items():
            path = split_path(name, split)
            text = render(items)
            if write:
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path.relative_to(REPO_ROOT)}: {len(items)} items "
                      f"({sum(bool(i['answerable']) for i in items)} answerable)")
            elif not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(REPO_ROOT)))
    if stale:
        print("split files differ from the rule: " + ", ".join(stale))
        return 1
    if not write:
        print("split files match the rule")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
