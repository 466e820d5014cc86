"""Fit the extractive scorer's weights and calibrate its refusal threshold (issue 9 item 2).

    python -m bench.fit_extractive [--scifact 300] [--no-news] [--folds 5]

Training data (never a test split):
- SciFact `claims_train.csv`: each claim against its cited abstracts; a candidate is positive when it holds a
  rationale sentence (`evidence_sentences`). Claims are not questions, so the rank and answer-type features are
  held constant there (only cosine, overlap, position and length learn from it).
- RealTime QA dev weeks (tests/data/realtimeqa_split.json, pooled corpus of all weeks): the candidates of the
  retrieved passages; positive = contains the gold answer (SQuAD-normalised, whole words).
- seed_qa.dev / corpus_qa.dev (the seed article, examples/corpus): positive = contains a gold string.
Model: L2-regularised logistic regression (numpy Newton steps), each question weighted equally. Feature
ablation: grouped k-fold cross-validation, top-1 precision (best candidate is positive) over questions with a
positive, with and without each feature. The refusal threshold is then calibrated on the dev questions: the
highest threshold at which at most 10 % of answerable RealTime QA dev questions and none of the answerable
sample-corpus dev questions are refused. Finally the engine with the fitted config answers the dev questions.
Prints the values and writes bench/results/fit_extractive.json (copy them into
bot/answering/extractive_config.py).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.datasets import _read_zip_csv, _scifact_zip, eval_dir, load_realtimeqa, parse_sentence_list
from bench.metrics import contains, normalize_answer
from bench.pipeline import write_result
from bot.answer import Passage
from bot.answering.extractive import ExtractiveAnswerer
from bot.answering.extractive_config import FEATURES, ExtractiveConfig

COMMAND = "python -m bench.fit_extractive"


@dataclass
class Group:
    source: str  # "scifact" | "news" | "sample"
    qid: str
    question: str
    answerable: bool
    x: np.ndarray
    y: np.ndarray
    passages: list[Passage]


# ------------------------------------------------------------------------------------------ data


def scifact_groups(answerer: ExtractiveAnswerer, limit: int, seed: int = 0) -> list[Group]:
    with zipfile.ZipFile(_scifact_zip()) as zf:
        claims = _read_zip_csv(zf, "claims_train.csv")
        corpus = {r["doc_id"]: (r["title"], parse_sentence_list(r["abstract"])) for r in
                  _read_zip_csv(zf, "corpus_train.csv")}
    by_claim: dict[str, dict[str, Any]] = {}
    for r in claims:
        c = by_claim.setdefault(r["id"], {"claim": r["claim"], "cited": [], "rationale": {}})
        c["cited"] = [d for d in r["cited_doc_ids"].strip("[]").replace(",", " ").split() if d in corpus]
        if r["evidence_doc_id"] and r["evidence_sentences"].strip("[]"):
            idx = [int(i) for i in r["evidence_sentences"].strip("[]").replace(",", " ").split()]
            c["rationale"].setdefault(r["evidence_doc_id"], set()).update(idx)
    ids = sorted(k for k, c in by_claim.items() if c["rationale"])
    random.Random(seed).shuffle(ids)
    groups = []
    for cid in ids[:limit]:
        c = by_claim[cid]
        positives: list[str] = []
        passages = []
        for d in c["cited"]:
            title, sents = corpus[d]
            passages.append(Passage(chunk_id=d, text=" ".join(sents), doc_id=d, title=title, source=d))
            positives += [normalize_answer(sents[i]) for i in c["rationale"].get(d, ()) if i < len(sents)]
        cands, x = answerer.features(c["claim"], passages)
        if not cands:
            continue
        x[:, FEATURES.index("rank")] = 0.5  # cited abstracts have no retrieval order
        y = np.array([_holds(normalize_answer(k.span.text), positives) for k in cands], dtype=float)
        groups.append(Group("scifact", cid, c["claim"], True, x, y, passages))
    return groups


def _holds(text: str, positives: list[str]) -> float:
    return float(any(p and (p in text or (len(text) > 30 and text in p)) for p in positives))


def qa_groups(answerer: ExtractiveAnswerer, source: str, items: list[dict[str, Any]], retrieve: Any) -> list[Group]:
    out = []
    for it in items:
        passages = retrieve(it["question"])
        golds = it["gold"]
        cands, x = answerer.features(it["question"], passages)
        y = np.array([float(any(contains(k.span.text, g) for g in golds)) for k in cands], dtype=float)
        out.append(Group(source, it["id"], it["question"], it["answerable"], x, y, passages))
    return out


def news_items() -> tuple[list[dict[str, Any]], Any]:
    """RealTime QA dev questions over the pooled corpus, and the engine over it (cached ingest)."""
    from bench.pipeline import prepare_index
    from bench.realtimeqa import realtimeqa_docs
    from bench.splits import realtimeqa_weeks
    from bot.cli import build_engine
    from index.embeddings import LocalMiniLMEmbedding

    ds = load_realtimeqa()
    dev = set(realtimeqa_weeks("dev"))
    answerable = {q.qid for q in ds.answerable()}
    prepared = prepare_index("realtimeqa", realtimeqa_docs(ds), embedder=LocalMiniLMEmbedding())
    engine = build_engine(prepared.settings.model_copy(update={"answer_mode": "extractive"}))
    items = [{"id": q.qid, "question": q.question, "gold": [q.gold], "answerable": q.qid in answerable}
             for q in ds.questions if q.qid.split("_")[0] in dev]
    return items, engine


def sample_items(tmp: Path, embedder: Any) -> list[tuple[str, list[dict[str, Any]], Any]]:
    from bench.citations import build, load_qa, sample_corpus, seed_article

    out = []
    for name, path in (("seed_qa", seed_article()), ("corpus_qa", sample_corpus())):
        engine, _ = build([path], tmp / name, embedder)
        items = [{**it, "gold": it.get("gold") or []} for it in load_qa(f"{name}.dev.jsonl")]
        out.append((name, items, engine))
    return out


# ------------------------------------------------------------------------------------------ model


def fit_logistic(groups: list[Group], cols: list[int], l2: float = 1.0) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression by Newton's method; each group weighs 1 in total."""
    x = np.concatenate([g.x[:, cols] for g in groups])
    y = np.concatenate([g.y for g in groups])
    sw = np.concatenate([np.full(len(g.y), 1.0 / len(g.y)) for g in groups])
    a = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(a.shape[1])
    reg = np.full(a.shape[1], l2 / len(groups))
    reg[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a @ w, -30, 30)))
        grad = a.T @ (sw * (p - y)) / sw.sum() + reg * w
        hess = (a * (sw * p * (1 - p))[:, None]).T @ a / sw.sum() + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w[:-1], float(w[-1])


def top1(groups: list[Group], cols: list[int], w: np.ndarray, b: float) -> float:
    hits = [float(g.y[int(np.argmax(g.x[:, cols] @ w + b))]) for g in groups if g.y.any()]
    return float(np.mean(hits)) if hits else 0.0


def cross_validated(groups: list[Group], cols: list[int], folds: int) -> dict[str, float]:
    order = sorted(range(len(groups)), key=lambda i: (groups[i].source, groups[i].qid))
    per_source: dict[str, list[float]] = {}
    for k in range(folds):
        test = [groups[i] for j, i in enumerate(order) if j % folds == k]
        train = [groups[i] for j, i in enumerate(order) if j % folds != k]
        w, b = fit_logistic(train, cols)
        for g in test:
            if g.y.any():
                per_source.setdefault(g.source, []).append(float(g.y[int(np.argmax(g.x[:, cols] @ w + b))]))
    out = {s: round(float(np.mean(v)), 4) for s, v in per_source.items()}
    out["questions"] = round(float(np.mean([v for vs in per_source.values() for v in vs if True])), 4)
    qa = [v for s, vs in per_source.items() if s != "scifact" for v in vs]
    out["qa"] = round(float(np.mean(qa)), 4) if qa else 0.0
    return out


def best_probability(g: Group, w: np.ndarray, b: float) -> float:
    """P(answers) of the question's best candidate (whole question; the answerer also scores each part of a
    two-part question, which only raises its best)."""
    if not len(g.y):
        return 0.0
    return float((1 / (1 + np.exp(-(g.x @ w + b)))).max())


def calibrate(probs: list[tuple[Group, float]], news_max: float = 0.10) -> tuple[float, dict[str, Any]]:
    news_ans = [p for g, p in probs if g.source == "news" and g.answerable]
    sample_ans = [p for g, p in probs if g.source == "sample" and g.answerable]
    unans = [p for g, p in probs if g.source == "sample" and not g.answerable]
    best = 0.0
    for t in sorted({round(p, 4) for _, p in probs} | {0.05 * i for i in range(1, 20)}):
        news_refused = np.mean([p < t for p in news_ans]) if news_ans else 0.0
        sample_refused = np.mean([p < t for p in sample_ans]) if sample_ans else 0.0
        if news_refused <= news_max and sample_refused == 0.0:
            best = max(best, t)
    # Just under the lowest kept score: the midpoint between it and the next lower score.
    below = [p for _, p in probs if p < best]
    thr = round((best + max(below)) / 2, 4) if below else best
    stats = {
        "news_answerable_refused": round(float(np.mean([p < thr for p in news_ans])), 4) if news_ans else None,
        "sample_answerable_refused": round(float(np.mean([p < thr for p in sample_ans])), 4) if sample_ans else None,
        "sample_unanswerable_refused": round(float(np.mean([p < thr for p in unans])), 4) if unans else None,
        "n": {"news_answerable": len(news_ans), "sample_answerable": len(sample_ans),
              "sample_unanswerable": len(unans)},
        "unanswerable_best_p": sorted(round(p, 4) for p in unans),
        "answerable_best_p_lowest": sorted(round(p, 4) for p in news_ans + sample_ans)[:8],
    }
    return thr, stats


# ------------------------------------------------------------------------------------------ dev check


def _extractive_strategy(engine: Any) -> Any:
    strategy = engine.strategy
    for attr in ("offline", "extractive", "inner"):
        strategy = getattr(strategy, attr, strategy)
    return strategy


def engine_embed(engine: Any) -> Any:
    """The engine's own SentenceEmbedder: its caches (memory and data dir) serve the fit and the dev check."""
    return _extractive_strategy(engine).answerer.embed


def use_config(engine: Any, config: ExtractiveConfig) -> None:
    strategy = _extractive_strategy(engine)
    strategy.answerer = ExtractiveAnswerer(strategy.answerer.embed, config)


def dev_answers(sets: list[tuple[str, list[dict[str, Any]], Any]], config: ExtractiveConfig) -> dict[str, Any]:
    from bench.realtimeqa import strip_markers

    out: dict[str, Any] = {}
    for name, items, engine in sets:
        use_config(engine, config)
        rows = []
        for it in items:
            a = engine.ask(it["question"])
            text = "" if a.refused else strip_markers(a.text)
            quotes = " ".join(c.quote for c in a.citations)
            golds = it["gold"]
            need = all if it.get("gold_all") else any
            rows.append({"id": it["id"], "answerable": it["answerable"], "refused": a.refused,
                         "contained": bool(golds) and need(contains(text, g) for g in golds),
                         "cited": bool(golds) and need(contains(quotes, g) for g in golds)})
        ans = [r for r in rows if r["answerable"]]
        un = [r for r in rows if not r["answerable"]]
        out[name] = {
            "answerable_n": len(ans),
            "contained": round(float(np.mean([r["contained"] for r in ans])), 4) if ans else None,
            "cited_contains": round(float(np.mean([r["cited"] for r in ans])), 4) if ans else None,
            "answerable_refused": round(float(np.mean([r["refused"] for r in ans])), 4) if ans else None,
            "unanswerable_n": len(un),
            "unanswerable_refused": round(float(np.mean([r["refused"] for r in un])), 4) if un else None,
            "misses": [r["id"] for r in ans if not r["contained"]],
        }
    return out


def check_committed(args: argparse.Namespace) -> None:
    from index.embeddings import LocalMiniLMEmbedding

    config = ExtractiveConfig()
    over = {k: v for k, v in (("select_floor", args.select_floor), ("select_margin", args.select_margin),
                              ("focus_similarity", args.focus_similarity)) if v is not None}
    config = replace(config, **over)
    tmp = Path(tempfile.mkdtemp(prefix="fit-extractive-"))
    if args.all_dev:  # every dev set the refusal model is fitted on: seed/corpus, new questions, chain turns
        from bench.fit_refusal import dev_sets

        sets = dev_sets(tmp, LocalMiniLMEmbedding())
    else:
        sets = sample_items(tmp, LocalMiniLMEmbedding())
    if not args.no_news:
        sets.append(("realtimeqa_dev", *news_items()))
    for name, m in dev_answers(sets, config).items():
        print(f"  {name} {over}: {m}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scifact", type=int, default=300, help="SciFact train claims to sample")
    parser.add_argument("--no-news", action="store_true", help="skip RealTime QA (needs its pooled index)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--dev-only", action="store_true",
                        help="no fit: answer the dev questions with the committed config (+ overrides below)")
    parser.add_argument("--select-floor", type=float)
    parser.add_argument("--select-margin", type=float)
    parser.add_argument("--focus-similarity", type=float)
    parser.add_argument("--all-dev", action="store_true",
                        help="with --dev-only: also the new dev questions and the chains' standalone turns")
    args = parser.parse_args()
    if args.dev_only:
        check_committed(args)
        return
    t0 = time.perf_counter()
    from index.embeddings import LocalMiniLMEmbedding

    embedder = LocalMiniLMEmbedding()
    base = ExtractiveAnswerer(embedder)
    groups = scifact_groups(base, args.scifact)
    print(f"scifact: {len(groups)} claims, {sum(len(g.y) for g in groups)} candidates", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="fit-extractive-"))
    sets: list[tuple[str, list[dict[str, Any]], Any]] = []
    for name, items, engine in sample_items(tmp, embedder):
        top_k = engine.settings.top_k
        groups += qa_groups(ExtractiveAnswerer(engine_embed(engine)), "sample", items,
                            lambda q, e=engine, k=top_k: e.retriever.retrieve(q, top_k=k).passages)
        sets.append((name, items, engine))
    if not args.no_news and (eval_dir() / "realtimeqa_dev").exists():
        items, engine = news_items()
        top_k = engine.settings.top_k
        groups += qa_groups(ExtractiveAnswerer(engine_embed(engine)), "news", items,
                            lambda q, e=engine, k=top_k: e.retriever.retrieve(q, top_k=k).passages)
        sets.append(("realtimeqa_dev", items, engine))
    for s in ("scifact", "sample", "news"):
        gs = [g for g in groups if g.source == s]
        print(f"{s}: {len(gs)} questions, {sum(1 for g in gs if g.y.any())} with a positive candidate", flush=True)

    all_cols = list(range(len(FEATURES)))
    full = cross_validated(groups, all_cols, args.folds)
    ablation = {"all features": full}
    for f in FEATURES:
        ablation[f"without {f}"] = cross_validated(groups, [c for c in all_cols if FEATURES[c] != f], args.folds)
    print(f"\ngrouped {args.folds}-fold CV, top-1 precision (best candidate holds the answer)")
    for k, v in ablation.items():
        print(f"  {k:24s} " + "  ".join(f"{s}={x:.3f}" for s, x in v.items()))
    # Keep a feature only when dropping it costs cross-validated precision on the questions (QA sets).
    kept = [c for c in all_cols if ablation[f"without {FEATURES[c]}"]["qa"] < full["qa"]
            or ablation[f"without {FEATURES[c]}"]["questions"] < full["questions"]]
    w, b = fit_logistic(groups, kept)
    weights = {f: 0.0 for f in FEATURES} | {FEATURES[c]: round(float(v), 4) for c, v in zip(kept, w, strict=True)}
    print("\nkept:", [FEATURES[c] for c in kept], "dropped:", [f for i, f in enumerate(FEATURES) if i not in kept])
    print("weights:", weights, "bias:", round(b, 4))

    fitted = replace(ExtractiveConfig(), weights=weights, bias=round(b, 4))
    qa = [g for g in groups if g.source != "scifact"]
    wv = np.asarray(fitted.weight_vector())
    thr, calib = calibrate([(g, best_probability(g, wv, fitted.bias)) for g in qa])
    print("refuse_below:", thr, calib)
    fitted = replace(fitted, refuse_below=thr)
    dev = dev_answers(sets, fitted)
    print("\ndev answers with the fitted config:")
    for name, m in dev.items():
        print(f"  {name}: {m}")
    path = write_result("fit_extractive", {
        "command": COMMAND + f" --scifact {args.scifact} --folds {args.folds}" + (" --no-news" if args.no_news else ""),
        "data": {s: sum(1 for g in groups if g.source == s) for s in ("scifact", "sample", "news")},
        "features": list(FEATURES), "ablation_cv_top1": ablation,
        "kept": [FEATURES[c] for c in kept], "weights": weights, "bias": round(b, 4),
        "refuse_below": thr, "calibration": calib, "dev_answers": dev,
        "seconds": round(time.perf_counter() - t0, 1),
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
