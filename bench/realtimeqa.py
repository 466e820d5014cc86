"""RealTime QA (dev and test weeks) through Footnote's real pipeline: retrieval hits and extractive answers.

    python -m bench.realtimeqa

Every article of every question is pooled into ONE corpus (Markdown files with title / url / date front matter),
ingested with the real Ingestor (cached in bench/.cache/), and every question retrieves from the whole corpus.
Retrieval: hit@1/5/10 (the SQuAD-normalised gold string occurs, on word boundaries, in a retrieved chunk) and
MRR@10. Answers: the real Engine (`bot.cli.build_engine`, answer_mode="extractive"): gold contained in the answer,
exact match and F1 (footnote markers removed), refusal rate; beside the published with-documents LLM figures
(README: 250 questions of 14 weeks) and the same LLMs' stored predictions scored on exactly these questions.
Both over all questions and over the answerable subset (gold somewhere in the corpus). Then per split (dev /
test weeks, tests/data/realtimeqa_split.json; tune on dev only) without and with an as-of date (each question
asked as of its own date, as `footnote ask --as-of` would): contains gold, cited quote contains gold, hit@5,
refusals, on the answerable subset.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from bench.datasets import QADataset, QAItem, eval_dir, load_realtimeqa
from bench.metrics import contains, exact_match, f1_score, first_hit_rank, mean
from bench.pipeline import SourceDoc, percentiles, prepare_index, print_table, write_result

PUBLISHED = {"contained": "0.24-0.45", "em": "0.17-0.35", "f1": "0.22-0.45"}
_MARKERS = re.compile(r"\s*\[\d+\]")


def realtimeqa_docs(ds: QADataset) -> list[SourceDoc]:
    out = []
    for i, (url, d) in enumerate(sorted(ds.corpus.items())):
        if not d.text.strip():
            continue
        out.append(SourceDoc(name=f"rq-{i:04d}", title=d.title or url, text=d.text, url=url,
                             date=iso_day(d.meta.get("publish_date"))))
    return out


def iso_day(value: str | None) -> str | None:
    """RealTime QA writes dates as "2026/04/10" (articles, some weeks' questions) or "2026-03-26": ISO or None.
    (Before 2026-12-02 the slash form was dropped, so no pooled article carried a date.)"""
    m = re.match(r"(\d{4})[-/](\d{2})[-/](\d{2})", (value or "").strip())
    return f"{m[1]}-{m[2]}-{m[3]}" if m else None


def strip_markers(text: str) -> str:
    return _MARKERS.sub("", text)


def retrieval_scores(texts: list[str], gold: str) -> dict[str, float]:
    rank = first_hit_rank(texts[:10], gold)
    return {"hit@1": float(rank == 1), "hit@5": float(rank is not None and rank <= 5),
            "hit@10": float(rank is not None), "mrr@10": 1.0 / rank if rank else 0.0}


def llm_baselines(questions: list[QAItem]) -> dict[str, dict[str, float]]:
    """The stored free-form with-documents (`_gcs_gen`) predictions, scored on these questions."""
    import json

    gold = {q.qid: q.gold for q in questions}
    out: dict[str, dict[str, float]] = {}
    for path in sorted((eval_dir() / "realtimeqa_dev" / "baseline_results").glob("*_qa_*_gcs_gen.jsonl")):
        model = path.name.split("_qa_", 1)[1].removesuffix("_gcs_gen.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec["question_id"] not in gold:
                continue
            pred, g = str(rec.get("prediction") or ""), gold[rec["question_id"]]
            acc = out.setdefault(model, {"n": 0, "contained": 0.0, "em": 0.0, "f1": 0.0})
            acc["n"] += 1
            acc["contained"] += contains(pred, g)
            acc["em"] += exact_match(pred, g)
            acc["f1"] += f1_score(pred, g)
    return {m: {"n": int(a["n"]), **{k: round(a[k] / a["n"], 4) for k in ("contained", "em", "f1")}}
            for m, a in out.items()}


def summarise(per_q: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, float]:
    return {k: round(mean(r[k] for r in per_q), 4) for k in keys} | {"n": len(per_q)}


def score_questions(engine: Any, questions: list[QAItem], answerable: set[str], *,
                    ret_ms: list[float] | None = None, ans_ms: list[float] | None = None,
                    ask_kwargs: Any = None) -> list[dict[str, Any]]:
    """Per question: retrieval hits (top 10 of the engine's retriever) and the extractive answer's scores.
    `ask_kwargs(q)` gives extra keyword arguments for `engine.ask` (e.g. an as-of date; the retrieval scored
    for hit@k gets the same as-of date)."""
    per_q: list[dict[str, Any]] = []
    for q in questions:
        extra = ask_kwargs(q) if ask_kwargs else {}
        t0 = time.perf_counter()
        r = engine.retriever.retrieve(q.question, top_k=10, as_of=extra.get("as_of"))
        if ret_ms is not None:
            ret_ms.append((time.perf_counter() - t0) * 1000)
        scores = retrieval_scores([p.text for p in r.passages], q.gold)
        t0 = time.perf_counter()
        answer = engine.ask(q.question, **extra)
        if ans_ms is not None:
            ans_ms.append((time.perf_counter() - t0) * 1000)
        text = "" if answer.refused else strip_markers(answer.text)
        quotes = " ".join(c.quote for c in answer.citations)
        per_q.append({
            "qid": q.qid, "question": q.question, "gold": q.gold, "answerable": q.qid in answerable, **scores,
            "refused": float(answer.refused), "contained": contains(text, q.gold),
            "em": exact_match(text, q.gold), "f1": f1_score(text, q.gold),
            "cited_contains": contains(quotes, q.gold), "answer": answer.text[:400],
        })
    return per_q


def as_of_question_date(q: QAItem) -> dict[str, Any]:
    """Ask as of the question's own date (what `footnote ask --as-of` or a Discord message's time gives)."""
    return {"as_of": iso_day(q.date)}


def split_summaries(variants: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str], dict[str, float]]:
    """(split, variant) -> answerable-subset summary, split by question week (bench.splits)."""
    from bench.splits import realtimeqa_weeks

    keys = ("contained", "cited_contains", "hit@5", "refused")
    out: dict[tuple[str, str], dict[str, float]] = {}
    for split in ("dev", "test"):
        weeks = set(realtimeqa_weeks(split))
        for variant, rows in variants.items():
            picked = [r for r in rows if r["answerable"] and r["qid"].split("_")[0] in weeks]
            out[split, variant] = summarise(picked, keys)
    return out


def llm_mode_answers(base: Any, questions: list[QAItem], answerable: set[str]) -> dict[str, Any] | None:
    """The same questions through the engine in llm mode, when an endpoint is configured in the environment
    (OPENAI_API_KEY and/or OPENAI_BASE_URL, FOOTNOTE_LLM_MODEL); None otherwise."""
    from bot.cli import build_engine
    from index.settings import Settings

    env = Settings()
    if not env.llm_configured:
        print("llm mode: skipped (set OPENAI_API_KEY or OPENAI_BASE_URL to score it)")
        return None
    settings = base.model_copy(update={
        "answer_mode": "llm", "openai_api_key": env.openai_api_key, "openai_base_url": env.openai_base_url,
        "llm_model": env.llm_model, "llm_timeout_s": env.llm_timeout_s, "llm_max_retries": env.llm_max_retries,
    })
    engine = build_engine(settings)
    rows = []
    for q in questions:
        answer = engine.ask(q.question)
        text = "" if answer.refused else strip_markers(answer.text)
        rows.append({
            "answerable": q.qid in answerable, "refused": float(answer.refused),
            "fallback": float(answer.mode == "fallback"), "contained": contains(text, q.gold),
            "em": exact_match(text, q.gold), "f1": f1_score(text, q.gold),
        })
    keys = ("contained", "em", "f1", "refused", "fallback")
    return {"model": env.llm_model, "all": summarise(rows, keys),
            "answerable": summarise([r for r in rows if r["answerable"]], keys)}


def main() -> None:
    from bot.cli import build_engine
    from index.embeddings import LocalMiniLMEmbedding

    ds = load_realtimeqa()
    answerable = {q.qid for q in ds.answerable()}
    docs = realtimeqa_docs(ds)
    prepared = prepare_index("realtimeqa", docs, embedder=LocalMiniLMEmbedding())
    chunks = prepared.summary["chunks"]
    print(f"corpus: {len(docs)} articles with text ({len(ds.corpus)} urls), {chunks} chunks"
          + (f", ingested in {prepared.summary['seconds']:.0f} s" if prepared.built_now else " (cached index)"))
    print(f"questions: {len(ds.questions)}, answerable (gold in corpus): {len(answerable)}")

    settings = prepared.settings.model_copy(update={"answer_mode": "extractive"})
    engine = build_engine(settings)
    retriever = engine.retriever
    retriever.retrieve("warm up", top_k=10)

    ret_ms: list[float] = []
    ans_ms: list[float] = []
    per_q = score_questions(engine, ds.questions, answerable, ret_ms=ret_ms, ans_ms=ans_ms)
    per_q_as_of = score_questions(engine, ds.questions, answerable, ask_kwargs=as_of_question_date)
    by_split = split_summaries({"no as-of": per_q, "as-of question date": per_q_as_of})

    # The same questions with the previous fusion default (RRF k=60), retrieval only, for comparison.
    from dataclasses import replace

    current = retriever.fusion
    retriever.fusion = replace(current, method="rrf", rrf_k=60, vector_weight=1.0, bm25_weight=1.0, candidates=30)
    rrf_rows = [{**retrieval_scores([p.text for p in retriever.retrieve(q.question, top_k=10).passages], q.gold),
                 "answerable": q.qid in answerable} for q in ds.questions]
    retriever.fusion = current

    ret_keys = ("hit@1", "hit@5", "hit@10", "mrr@10")
    ans_keys = ("contained", "em", "f1", "refused", "cited_contains")
    subsets = {"all": per_q, "answerable": [r for r in per_q if r["answerable"]]}
    retrieval = {name: summarise(rows, ret_keys) for name, rows in subsets.items()}
    retrieval |= {f"{name}, previous default rrf": summarise(rows, ret_keys) for name, rows in
                  (("all", rrf_rows), ("answerable", [r for r in rrf_rows if r["answerable"]]))}
    answers = {name: summarise(rows, ans_keys) for name, rows in subsets.items()}
    answers_llm = llm_mode_answers(prepared.settings, ds.questions, answerable)
    llms = llm_baselines(ds.questions)

    print_table(["subset", "n", "hit@1", "hit@5", "hit@10", "MRR@10"],
                [[n, m["n"], m["hit@1"], m["hit@5"], m["hit@10"], m["mrr@10"]] for n, m in retrieval.items()],
                title=f"retrieval (HybridRetriever, top 10 of {chunks} chunks)")
    rows: list[list[Any]] = [
        [f"Footnote extractive ({n})", m["n"], m["contained"], m["em"], m["f1"], m["refused"]]
        for n, m in answers.items()
    ]
    for n in ("all", "answerable") if answers_llm else ():
        m = answers_llm[n]  # type: ignore[index]
        rows.append([f"Footnote llm mode ({n})", m["n"], m["contained"], m["em"], m["f1"], m["refused"]])
    rows.append(["published LLMs + docs (250 q, 14 weeks)", 250, PUBLISHED["contained"], PUBLISHED["em"],
                 PUBLISHED["f1"], ""])
    rows += [[f"  {m} + docs (these q)", v["n"], v["contained"], v["em"], v["f1"], ""] for m, v in llms.items()]
    print_table(["answerer", "n", "contained", "EM", "F1", "refused"], rows, title="answers")
    print_table(["split (answerable)", "as-of", "n", "contains gold", "cited quote contains", "hit@5", "refused"],
                [[split, variant, m["n"], m["contained"], m["cited_contains"], m["hit@5"], m["refused"]]
                 for (split, variant), m in by_split.items()],
                title="dev / test weeks (tests/data/realtimeqa_split.json), with and without --as-of")
    print(f"\nretrieve p50/p95: {percentiles(ret_ms)['p50_ms']:.0f}/{percentiles(ret_ms)['p95_ms']:.0f} ms; "
          f"engine.ask p50/p95: {percentiles(ans_ms)['p50_ms']:.0f}/{percentiles(ans_ms)['p95_ms']:.0f} ms")
    path = write_result("realtimeqa", {
        "dataset": f"RealTime QA dev weeks ({len(ds.questions)} questions), pooled corpus of {len(docs)} articles",
        "index": {"chunks": chunks, "dir": prepared.root.name, "ingest_seconds": prepared.summary["seconds"]},
        "fusion": str(retriever.fusion),
        "retrieval": retrieval, "answers_extractive": answers, "answers_llm": answers_llm,
        "by_split_answerable": {f"{split} / {variant}": m for (split, variant), m in by_split.items()},
        "published_llm_with_docs_250q": PUBLISHED,
        "llm_with_docs_same_questions": llms,
        "latency": {"retrieve": percentiles(ret_ms), "ask_extractive": percentiles(ans_ms)},
        "per_question": per_q, "per_question_as_of": per_q_as_of,
    })
    print(f"wrote {Path(path).name}")


if __name__ == "__main__":
    main()
