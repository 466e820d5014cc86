"""Fit the extractive answerer's question-level refusal model on DEV data only (issue 9 items 2 and 7).

    python -m bench.fit_refusal [--no-news] [--max-refused 0.10]

One row per question part (bot/text/questions.py: split_question), features REFUSAL_FEATURES of
`ExtractiveAnswerer.question_features` (best sentence logit, best cosine, how much of the question's terms and
names the passages hold), label = the question is answerable. Rows the hard answer-type rule already refuses
("how many" with no number in the best sentence; best sentence below the sentence model's `refuse_below`),
and questions addressed to the assistant ("Ignore the
documents and ..."), are decided by those rules and left out of the fit.

Dev data (never a test split): tests/data/seed_qa.dev.jsonl, corpus_qa.dev.jsonl, new_qa.dev.jsonl (written for
the dev split), the standalone questions of chains.dev.jsonl, and the RealTime QA dev weeks (pooled corpus).
Model: L2 logistic regression (bench.fit_extractive.fit_logistic), each source and class weighted equally.
Feature ablation: grouped 5-fold cross-validated AUC with and without each feature. Threshold `answer_above`:
the highest P at which at most `--max-refused` of the answerable questions of every dev source are refused
(a question is refused when all its parts are). Then the engine with the fitted config answers the dev sets.
Writes bench/results/fit_refusal.json; copy the values into bot/answering/extractive_config.py.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.fit_extractive import Group, dev_answers, engine_embed, fit_logistic, news_items
from bench.pipeline import write_result
from bot.answering.extractive import ExtractiveAnswerer
from bot.answering.extractive_config import REFUSAL_FEATURES, ExtractiveConfig
from bot.text.injection import looks_like_injection
from bot.text.questions import addresses_the_assistant, split_question

COMMAND = "python -m bench.fit_refusal"


def dev_sets(tmp: Path, embedder: Any) -> list[tuple[str, list[dict[str, Any]], Any]]:
    """(name, items, engine) for every dev set of the seed article and examples/corpus."""
    from bench.citations import build, sample_corpus, seed_article
    from bench.splits import DATA, read_jsonl

    out = []
    for source, path in (("seed", seed_article()), ("corpus", sample_corpus())):
        engine, _ = build([path], tmp / source, embedder)
        items = [{**it, "gold": it.get("gold") or []} for it in read_jsonl(DATA / f"{source}_qa.dev.jsonl")]
        out.append((f"{source}_qa.dev", items, engine))
        new = [it for it in read_jsonl(DATA / "new_qa.dev.jsonl") if it["set"] == source]
        out.append((f"new_qa.dev/{source}", new, engine))
        chains = [
            {"id": f"{c['id']}[{i}]", "question": t["standalone"], "answerable": t["answerable"], "gold": t["gold"]}
            for c in read_jsonl(DATA / "chains.dev.jsonl") if c["set"] == source for i, t in enumerate(c["turns"])
        ]
        out.append((f"chains.dev/{source} (standalone)", chains, engine))
    return out


def rows_for(name: str, items: list[dict[str, Any]], engine: Any) -> list[Group]:
    """A Group per question, one row per part (x: REFUSAL_FEATURES, y: answerable; hard-rule parts dropped)."""
    answerer = ExtractiveAnswerer(engine_embed(engine))
    out = []
    for it in items:
        passages = engine.retriever.retrieve(it["question"], top_k=engine.settings.top_k).passages
        xs = []
        addressed = addresses_the_assistant(it["question"]) or looks_like_injection(it["question"])
        for part in [] if addressed else split_question(it["question"]):
            scored = answerer.candidates(part, passages)
            close = bool(scored) and max(s.score for s in scored[:2]) >= answerer.config.refuse_below
            if close and answerer.refusal_rule(part, scored[0], passages) is None:
                xs.append(answerer.question_features(part, passages, scored))
        x = np.asarray(xs).reshape(-1, len(REFUSAL_FEATURES))
        out.append(Group(name, it["id"], it["question"], it["answerable"], x,
                         np.full(len(x), float(it["answerable"])), []))
    return out


def weighted(groups: list[Group]) -> list[Group]:
    """Each (source, class) pair weighs the same in total: fit_logistic weighs every group 1, so a group of
    a rare pair is repeated."""
    pairs: dict[tuple[str, bool], list[Group]] = {}
    for g in groups:
        if len(g.y):
            pairs.setdefault((g.source.split("/")[0], g.answerable), []).append(g)
    most = max(len(v) for v in pairs.values())
    return [g for v in pairs.values() for g in v * max(1, round(most / len(v)))]


def question_p(g: Group, w: np.ndarray, b: float) -> float:
    """P(answerable) of the question's best part (the answerer answers when any part passes)."""
    return float((1 / (1 + np.exp(-(g.x @ w + b)))).max()) if len(g.y) else 0.0


def auc(groups: list[Group], probs: list[float]) -> float:
    pos = [p for g, p in zip(groups, probs, strict=True) if g.answerable]
    neg = [p for g, p in zip(groups, probs, strict=True) if not g.answerable]
    if not pos or not neg:
        return float("nan")
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


def cv_auc(groups: list[Group], cols: list[int], folds: int = 5) -> float:
    order = sorted(range(len(groups)), key=lambda i: (groups[i].source, groups[i].qid))
    probs = [0.0] * len(groups)
    for k in range(folds):
        train = [groups[i] for j, i in enumerate(order) if j % folds != k and len(groups[i].y)]
        w, b = fit_logistic(weighted(train), cols)
        for j, i in enumerate(order):
            if j % folds == k and len(groups[i].y):
                g = groups[i]
                probs[i] = float((1 / (1 + np.exp(-(g.x[:, cols] @ w + b)))).max())
    return round(auc(groups, probs), 4)


def choose_threshold(groups: list[Group], probs: list[float], max_refused: float) -> tuple[float, dict[str, Any]]:
    sources = sorted({g.source.split("/")[0] for g in groups})
    best = 0.0
    for t in sorted(set(probs) | {0.05 * i for i in range(1, 20)}):
        ok = True
        for s in sources:
            ans = [p for g, p in zip(groups, probs, strict=True) if g.answerable and g.source.startswith(s)]
            if ans and np.mean([p < t for p in ans]) > max_refused:
                ok = False
        if ok:
            best = max(best, t)
    below = [p for p in probs if p < best]
    thr = round((best + max(below)) / 2, 4) if below else round(best, 4)
    stats: dict[str, Any] = {}
    for s in sources:
        ans = [p for g, p in zip(groups, probs, strict=True) if g.answerable and g.source.startswith(s)]
        un = [p for g, p in zip(groups, probs, strict=True) if not g.answerable and g.source.startswith(s)]
        stats[s] = {"answerable_refused": f"{sum(p < thr for p in ans)}/{len(ans)}",
                    "unanswerable_refused": f"{sum(p < thr for p in un)}/{len(un)}"}
    return thr, stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-news", action="store_true", help="skip RealTime QA dev (needs its pooled index)")
    parser.add_argument("--max-refused", type=float, default=0.10,
                        help="most answerable dev questions of any source the threshold may refuse")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--answer-above", type=float, help="use this threshold instead of choosing one")
    parser.add_argument("--fit-news", action="store_true",
                        help="fit the weights on RealTime QA dev too (default: it only bounds the threshold)")
    parser.add_argument("--features", help="comma-separated features to keep (default: chosen by CV ablation)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    from index.embeddings import LocalMiniLMEmbedding

    sets = dev_sets(Path(tempfile.mkdtemp(prefix="fit-refusal-")), LocalMiniLMEmbedding())
    if not args.no_news:
        items, engine = news_items()
        sets.append(("realtimeqa.dev", items, engine))
    groups = [g for name, items, engine in sets for g in rows_for(name, items, engine)]
    for name, _items, _ in sets:
        gs = [g for g in groups if g.source == name]
        print(f"{name}: {len(gs)} questions ({sum(g.answerable for g in gs)} answerable), "
              f"{sum(1 for g in gs if not len(g.y))} decided by a rule", flush=True)
    # RealTime QA quiz questions ("... this week?", one sentence of context each) are unlike the product's
    # questions: by default they only bound the threshold (at most --max-refused of its answerable refused).
    fit_on = [g for g in groups if args.fit_news or not g.source.startswith("realtimeqa")]
    cols = list(range(len(REFUSAL_FEATURES)))
    ablation = {"all features": cv_auc(fit_on, cols)}
    for c in cols:
        ablation[f"without {REFUSAL_FEATURES[c]}"] = cv_auc(fit_on, [k for k in cols if k != c])
    print("grouped 5-fold CV AUC (answerable vs not):", ablation)
    kept = [c for c in cols if ablation[f"without {REFUSAL_FEATURES[c]}"] < ablation["all features"]]
    if args.features:
        kept = [REFUSAL_FEATURES.index(f) for f in args.features.split(",")]
    w, b = fit_logistic(weighted([g for g in fit_on if len(g.y)]), kept, l2=args.l2)
    weights = {REFUSAL_FEATURES[c]: round(float(v), 4) for c, v in zip(kept, w, strict=True)}
    full_w = np.asarray([weights.get(f, 0.0) for f in REFUSAL_FEATURES])
    probs = [question_p(g, full_w, b) for g in groups]
    thr, stats = choose_threshold(groups, probs, args.max_refused)
    if args.answer_above is not None:
        thr = args.answer_above
    print("kept:", list(weights), "weights:", weights, "bias:", round(b, 4))
    for g, p in sorted(zip(groups, probs, strict=True), key=lambda gp: gp[1]):
        if (p >= thr) != g.answerable:
            print(f"  {'answered' if p >= thr else 'refused'} {g.source} {g.qid} p={p:.3f} {g.question[:80]}")
    print("answer_above:", thr, stats, flush=True)
    config = replace(ExtractiveConfig(), refusal_weights=weights, refusal_bias=round(b, 4), answer_above=thr)
    merged: dict[str, tuple[list[dict[str, Any]], Any]] = {}
    for name, items, engine in sets:
        merged[name] = (items, engine)
    dev = dev_answers([(n, items, engine) for n, (items, engine) in merged.items()], config)
    print("dev answers with the fitted config:")
    for name, m in dev.items():
        print(f"  {name}: {m}")
    path = write_result("fit_refusal", {
        "command": f"{COMMAND} --max-refused {args.max_refused} --l2 {args.l2}" + (" --no-news" if args.no_news
                                                                                    else "")
        + (" --fit-news" if args.fit_news else "") + (f" --features {args.features}" if args.features else ""),
        "features": list(REFUSAL_FEATURES), "cv_auc": ablation, "kept": list(weights),
        "refusal_weights": weights, "refusal_bias": round(b, 4), "answer_above": thr, "calibration": stats,
        "dev_answers": dev, "seconds": round(time.perf_counter() - t0, 1),
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
