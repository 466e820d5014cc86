"""Per-question retrieval diagnosis on the RealTime QA DEV weeks only (never the test weeks).

    python -m bench.rtqa_dev_diag [--as-of] [--depth 200] [--show 5]

For each answerable dev question: the rank of the first chunk holding the gold string (in the top 10 and in a
deep list), the best-ranked gold chunk's article and date, and the top `--show` passages (article title, date,
whether the chunk holds the gold string), so a retrieval change can be judged question by question. Test weeks
are filtered out before anything is retrieved.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.datasets import load_realtimeqa
from bench.metrics import contains, mean
from bench.pipeline import prepare_index
from bench.realtimeqa import iso_day, realtimeqa_docs
from bench.splits import realtimeqa_weeks


def dev_rows(retriever: Any, questions: list[Any], *, as_of: bool, depth: int) -> list[dict[str, Any]]:
    """Ranks as the product serves a top 10 (the candidate depth follows top_k, which changes the fusion's
    normalisation); a second, deep call only locates the gold chunk when the top 10 misses it."""
    rows = []
    for q in questions:
        day = iso_day(q.date) if as_of else None
        passages = retriever.retrieve(q.question, top_k=10, as_of=day).passages
        hits = [contains(p.text, q.gold) > 0 for p in passages]
        first = next((i + 1 for i, h in enumerate(hits) if h), None)
        deep = None
        if first is None:
            found = retriever.retrieve(q.question, top_k=depth, as_of=day).passages
            deep = next(((i + 1, p) for i, p in enumerate(found) if contains(p.text, q.gold) > 0), None)
        rows.append({"q": q, "passages": passages, "hits": hits, "first": first, "deep": deep})
    return rows


def main(argv: list[str] | None = None) -> None:
    from bot.cli import build_engine
    from index.embeddings import LocalMiniLMEmbedding

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--as-of", action="store_true", help="ask each question as of its own date")
    ap.add_argument("--depth", type=int, default=200)
    ap.add_argument("--show", type=int, default=5)
    args = ap.parse_args(argv)

    dev_weeks = set(realtimeqa_weeks("dev"))
    ds = load_realtimeqa()  # the pooled corpus needs every week; only dev questions are asked
    answerable = {q.qid for q in ds.answerable()}
    questions = [q for q in ds.questions if q.qid.split("_")[0] in dev_weeks and q.qid in answerable]
    prepared = prepare_index("realtimeqa", realtimeqa_docs(ds), embedder=LocalMiniLMEmbedding())
    retriever = build_engine(prepared.settings, history=False).retriever  # as bench.realtimeqa retrieves
    rows = dev_rows(retriever, questions, as_of=args.as_of, depth=args.depth)
    for row in rows:
        q, first = row["q"], row["first"]
        mark = "HIT " if first and first <= 5 else "miss"
        print(f"\n{mark} {q.qid} ({q.date}) first gold rank in the top 10 {first}: {q.question!r} -> {q.gold!r}")
        if first:
            p = row["passages"][first - 1]
            print(f"     gold in: {p.date} {p.title[:90]!r}")
        elif row["deep"]:
            rank, p = row["deep"]
            print(f"     gold at rank {rank} of a top {args.depth}: {p.date} {p.title[:90]!r}")
        for i, p in enumerate(row["passages"][: args.show]):
            print(f"  {i + 1:2d} {'*' if row['hits'][i] else ' '} {p.date} {p.score:6.2f} {p.title[:80]!r}")
    firsts = [r["first"] for r in rows]
    print(f"\ndev answerable {len(rows)}: hit@5 {mean(float(bool(f and f <= 5)) for f in firsts):.4f}, "
          f"hit@10 {mean(float(bool(f and f <= 10)) for f in firsts):.4f}, "
          f"in a top {args.depth} {mean(float(bool(r['first'] or r['deep'])) for r in rows):.4f}")


if __name__ == "__main__":
    main()
