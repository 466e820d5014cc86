"""One quality table, dev and test side by side, through the real pipeline (extractive mode, no LLM).

    python -m bench.quality --label before     # or --label after; both runs are kept in the result file
    python -m bench.quality --skip-realtimeqa --skip-scifact   # only the project's own sets (~2 min)
    python -m bench.quality --no-analyst ...   # the extractive strategy alone (no AnalystRouter around it)

Rows (splits: tests/data/*.{dev,test}.jsonl and tests/data/realtimeqa_split.json, see bench/splits.py):
- seed / corpus / new questions: answerable correct (answer AND a cited quote hold the gold, bench/citations.py),
  unanswerable/injection refused, answerable wrongly refused. The new questions exist in the test split only.
- follow-up chains: every turn asked in one conversation (real ConversationStore, real rewriter); turn accuracy =
  share of turns answered correctly (or refused, for unanswerable turns).
- RealTime QA dev (pooled corpus of all four weeks, answerable subset = gold string somewhere in the corpus):
  answer contains gold, a cited quote contains gold, hit@5, refusals of answerable questions (bench/realtimeqa.py).
  With an as-of date (the question's date) only when `Engine.ask` accepts `as_of`; otherwise reported as n/a.
- SciFact nDCG@10 of the hybrid retriever: dev = the 809 train claims, test = the 300 BEIR test claims, measured on
  the cached ingested index (bench/scifact_footnote.py --prepare-only builds it, ~8 min); without that cache the
  figures of the last bench/results/scifact_footnote.json are shown, marked as cached.
Writes bench/results/quality.json ({"runs": {label: ...}}).
"""

from __future__ import annotations

import argparse
import inspect
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.citations import (
    build,
    check_answer,
    make_verifier,
    run_items,
    sample_corpus,
    seed_article,
    stored_chunks,
    summarise,
)
from bench.pipeline import RESULTS_DIR, print_table
from bench.splits import DATA, SPLITS, read_jsonl, realtimeqa_weeks

SETS = {"seed": "seed_qa", "corpus": "corpus_qa"}


def _load(name: str) -> list[dict[str, Any]]:
    path = DATA / name
    return read_jsonl(path) if path.exists() else []


def run_chains(
    engine: Any, verifier: Any, stored: dict[str, str], chains: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every turn of a chain in one conversation; a row per turn."""
    rows = []
    for chain in chains:
        cid = f"quality-{chain['id']}-{time.monotonic_ns()}"
        for i, turn in enumerate(chain["turns"]):
            item = {"id": f"{chain['id']}[{i}]", **turn}
            answer = engine.ask(turn["question"], conversation_id=cid)
            row = check_answer(verifier, stored, item, answer)
            row["turn"] = i
            row["rewritten"] = answer.rewritten_question
            rows.append(row)
    return rows


def turn_accuracy(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r["correct"] if r["answerable"] else r["refused"] for r in rows]
    later = [o for o, r in zip(ok, rows, strict=True) if r["turn"] > 0]
    return {"turns": len(rows), "turn_accuracy": round(sum(ok) / len(ok), 4) if ok else None,
            "followup_turn_accuracy": round(sum(later) / len(later), 4) if later else None}


def own_sets(tmp: Path, splits: tuple[str, ...] = SPLITS, embedder: Any = None) -> dict[str, Any]:
    """The project's own sets for `splits`: {row name: {split: {"summary", "rows", ...}}}."""
    if embedder is None:
        from index.embeddings import LocalMiniLMEmbedding

        embedder = LocalMiniLMEmbedding()
    out: dict[str, Any] = {}
    for source, paths in (("seed", [seed_article()]), ("corpus", [sample_corpus()])):
        engine, index = build(paths, tmp / source, embedder)
        stored = stored_chunks(index)
        verifier = make_verifier(embedder)
        for split in splits:
            rows = run_items(engine, verifier, stored, _load(f"{SETS[source]}.{split}.jsonl"))
            out.setdefault(f"{source} set", {})[split] = {"summary": summarise(rows), "rows": rows}
            new = [q for q in _load(f"new_qa.{split}.jsonl") if q["set"] == source]
            out.setdefault("new questions", {}).setdefault(split, {"rows": []})["rows"] += run_items(
                engine, verifier, stored, new)
            chains = [c for c in _load(f"chains.{split}.jsonl") if c["set"] == source]
            out.setdefault("follow-up chains", {}).setdefault(split, {"rows": []})["rows"] += run_chains(
                engine, verifier, stored, chains)
    for split, part in out["new questions"].items():
        part["summary"] = summarise(part["rows"]) if part["rows"] else None
        by_type: dict[str, list[bool]] = {}
        for r, q in zip(part["rows"], [q for s in ("seed", "corpus") for q in _load(f"new_qa.{split}.jsonl")
                                       if q["set"] == s], strict=True):
            by_type.setdefault(q["type"], []).append(r["correct"] if r["answerable"] else r["refused"])
        part["by_type"] = {t: f"{sum(v)}/{len(v)}" for t, v in sorted(by_type.items())}
    for part in out["follow-up chains"].values():
        part["summary"] = turn_accuracy(part["rows"]) if part["rows"] else None
    return out


def realtimeqa() -> dict[str, Any]:
    from bench.datasets import load_realtimeqa
    from bench.pipeline import prepare_index
    from bench.realtimeqa import realtimeqa_docs, score_questions
    from bench.realtimeqa import summarise as rq_summarise
    from bot.cli import build_engine
    from index.embeddings import LocalMiniLMEmbedding

    ds = load_realtimeqa()  # the corpus pools every week; questions are split by week
    answerable = {q.qid for q in ds.answerable()}
    prepared = prepare_index("realtimeqa", realtimeqa_docs(ds), embedder=LocalMiniLMEmbedding())
    engine = build_engine(prepared.settings.model_copy(update={"answer_mode": "extractive"}))
    engine.retriever.retrieve("warm up", top_k=10)
    keys = ("contained", "cited_contains", "hit@5", "refused")
    supports_as_of = "as_of" in inspect.signature(engine.ask).parameters
    out: dict[str, Any] = {"chunks": prepared.summary["chunks"], "as_of_supported": supports_as_of}
    for split in SPLITS:
        weeks = set(realtimeqa_weeks(split))
        questions = [q for q in ds.questions if q.qid.split("_")[0] in weeks]
        variants: dict[str, Any] = {"no as-of": None}
        if supports_as_of:
            variants["as-of question date"] = lambda q: {"as_of": q.date}
        for variant, kwargs in variants.items():
            rows = score_questions(engine, questions, answerable, ask_kwargs=kwargs)
            out.setdefault(variant, {})[split] = {
                "all": rq_summarise(rows, keys),
                "answerable": rq_summarise([r for r in rows if r["answerable"]], keys),
                "rows": rows,
            }
    return out


def scifact() -> dict[str, Any]:
    from bench.datasets import load_scifact
    from bench.pipeline import CACHE_DIR, bench_settings, corpus_key
    from bench.scifact_footnote import chunk_owner, evaluate_retriever, prepare, scifact_docs
    from bot.retrieval import HybridRetriever
    from index.embeddings import LocalMiniLMEmbedding

    test = load_scifact("test")
    docs = scifact_docs(test)
    root = CACHE_DIR / f"footnote-scifact-{corpus_key(docs, bench_settings(Path('.')))}"
    if (root / "READY").exists():  # only a finished build for today's chunking and embedder: never ingest here
        embedder = LocalMiniLMEmbedding()
        prepared = prepare(test, embedder=embedder, verbose=False)
        retriever = HybridRetriever(prepared.settings, embedder)
        owner = chunk_owner(prepared, test)
        return {"source": f"measured on {prepared.root.name}",
                "dev": evaluate_retriever(retriever, load_scifact("train"), owner)["hybrid"],
                "test": evaluate_retriever(retriever, test, owner)["hybrid"]}
    path = RESULTS_DIR / "scifact_footnote.json"
    last = json.loads(path.read_text(encoding="utf-8"))
    row = next(r for r in last["rows"] if r["name"].startswith("hybrid: Footnote default"))
    return {"source": f"cached bench/results/scifact_footnote.json ({last.get('written_at')}, {row['name']})",
            "dev": row["train"], "test": row["test"]}


def _fmt(value: Any) -> str:
    return "" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def table(result: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for name in ("seed set", "corpus set", "new questions"):
        part = result["own"][name]
        for metric, n_key in (("answerable_correct", "answerable"), ("unanswerable_refused", "unanswerable"),
                              ("answerable_wrongly_refused", "answerable")):
            cells = []
            for split in SPLITS:
                v = (part.get(split) or {}).get("summary")
                cells.append(f"{_fmt(v[metric])} (n={v[n_key]})" if v and v[n_key] else "-")
            rows.append([name, metric, *cells])
    chains = result["own"]["follow-up chains"]
    for metric in ("turn_accuracy", "followup_turn_accuracy"):
        vals = [(chains.get(s) or {}).get("summary") or {} for s in SPLITS]
        rows.append(["follow-up chains", metric,
                     *(_fmt(v.get(metric)) + (f" ({v['turns']} turns)" if v else "") for v in vals)])
    rq = result.get("realtimeqa")
    if rq:
        for variant in ("no as-of", "as-of question date"):
            if variant not in rq:
                rows.append([f"RealTime QA ({variant})", "all", "n/a: Engine.ask has no as_of", ""])
                continue
            for metric in ("contained", "cited_contains", "hit@5", "refused"):
                found: list[dict[str, Any]] = [rq[variant][s]["answerable"] for s in SPLITS]
                rows.append([f"RealTime QA answerable ({variant})", metric,
                             *(f"{_fmt(cell[metric])} (n={cell['n']})" for cell in found)])
    sf = result.get("scifact")
    if sf:
        rows.append(["SciFact hybrid", "nDCG@10 (dev=train claims)", _fmt(sf["dev"]["ndcg@10"]),
                     _fmt(sf["test"]["ndcg@10"])])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="latest", help="name of this run in quality.json (before / after)")
    parser.add_argument("--skip-realtimeqa", action="store_true")
    parser.add_argument("--skip-scifact", action="store_true")
    parser.add_argument("--no-analyst", action="store_true",
                        help="measure the configured strategy alone, without the analyst router around it")
    args = parser.parse_args()
    if args.no_analyst:
        import bot.wiring

        if hasattr(bot.wiring, "wrap_analyst"):  # the router hands every non-analyst question to the strategy
            bot.wiring.wrap_analyst = lambda strategy, *_a, **_k: strategy
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        result: dict[str, Any] = {"own": own_sets(Path(tmp))}
    if not args.skip_realtimeqa:
        result["realtimeqa"] = realtimeqa()
    if not args.skip_scifact:
        result["scifact"] = scifact()
    rows = table(result)
    print_table(["set", "metric", "dev", "test"], rows, title=f"quality ({args.label}), extractive mode")
    for name in ("dev", "test"):
        by_type = (result["own"]["new questions"].get(name) or {}).get("by_type")
        if by_type:
            print(f"new questions ({name}) by type: {by_type}")
    misses = [f"{r['id']}: {r['answer'][:100]!r}" for part in result["own"].values() for s in SPLITS
              for r in (part.get(s) or {}).get("rows", [])
              if s == "test" and ((r["answerable"] and not r["correct"]) or (not r["answerable"] and not r["refused"]))]
    print("test misses:\n  " + "\n  ".join(misses))
    path = RESULTS_DIR / "quality.json"
    runs = json.loads(path.read_text(encoding="utf-8")).get("runs", {}) if path.exists() else {}
    result |= {"table": rows, "seconds": round(time.time() - started),
               "written_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())}
    runs[args.label] = result
    path.write_text(json.dumps({"runs": runs}, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {path.name} (run {args.label!r}) in {result['seconds']} s")


if __name__ == "__main__":
    main()
