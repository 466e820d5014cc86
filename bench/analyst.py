"""Analyst answers (comparison tables, conflicting sources, latest / timeline, attribution) through the real
engine, extractive mode, over examples/corpus + examples/analyst.

    python -m bench.analyst [--split dev|test|all] [--show]
    python -m bench.analyst --sweep      # the thresholds' grid, on the dev split only
    python -m bench.analyst --split dev --lower   # every question lower-cased without '?'


The labelled set is tests/data/analyst_qa.jsonl (written for this project; dev and test splits: tune on dev,
report test). Both folders are ingested fresh with the real Ingestor into a temp data dir; each question goes
through `Engine.aask` with the `AnalystRouter` wrapped around the configured strategy. Per type:
- structure right: compare: a row for every labelled entity and a column for every labelled facet, and each
  labelled cell holds its gold text (one of "a|b") or says "not stated" when labelled null; conflict: a
  "Sources disagree" notice exactly when labelled, with each labelled value among the versions; latest: the
  first footnote is the labelled newest passage (its date) and holds the gold text, and the answer says the
  date; timeline: the items are in date order and the labelled dates appear in that order; attribution: the
  answer attributes the gold text to the labelled speaker ("According to X" or the quote naming X);
- supported: every cell / version / item / quoted claim is cited, its quote is a verbatim span of the cited
  chunk, the claim is part of its quote, and the `CitationVerifier` keeps "<claim> [1]" against that chunk;
- false conflict flags: notices on questions labelled as having no conflict (all types), over those questions.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.datasets import REPO_ROOT
from bench.lowercase import lowered
from bench.pipeline import bench_settings, write_result
from bot.answer import Answer, Citation, Passage
from bot.answering.analyst.compare import NOT_STATED
from bot.answering.analyst.evidence import mentions
from bot.answering.analyst.router import AnalystRouter, AnalystSettings
from bot.answering.verify import CitationVerifier
from bot.text.markers import attach_markers, strip_markers
from bot.text.sentences import split_sentences

DATA = REPO_ROOT / "tests" / "data" / "analyst_qa.jsonl"
FOLDERS = (REPO_ROOT / "examples" / "corpus", REPO_ROOT / "examples" / "analyst")
TYPES = ("compare", "conflict", "latest", "timeline", "attribution")


def load(split: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split == "all" or r["split"] == split]


def any_of(gold: str, text: str) -> bool:
    return any(g.lower() in text.lower() for g in gold.split("|"))


def structure_right(row: dict[str, Any], a: Answer) -> tuple[bool, str]:
    kind = row["type"]
    flagged = bool(a.conflicts) or "Sources disagree" in a.text
    if kind == "compare":
        if a.table is None:
            return False, "no table"
        labels = [r.label for r in a.table.rows]
        for want in row["rows"]:
            if not any(mentions(label, want) or mentions(want, label) for label in labels):
                return False, f"no row for {want!r} (rows {labels})"
        cols = [c.lower() for c in a.table.columns]
        for want in row["columns"]:
            if want.lower() not in cols:
                return False, f"no column {want!r} (columns {a.table.columns})"
        for key, gold in row["cells"].items():
            r_name, c_name = key.split("|")
            trow = next(r for r in a.table.rows if mentions(r.label, r_name) or mentions(r_name, r.label))
            ci = cols.index(c_name.lower())
            text = trow.cells[ci].text
            if gold is None and text != NOT_STATED:
                return False, f"{key}: {text!r}, labelled not stated"
            if gold is not None and not any_of(gold, text):
                return False, f"{key}: {text!r} lacks {gold!r}"
        return True, ""
    if kind == "conflict":
        if flagged != row["conflict"]:
            return False, f"conflict flagged={flagged}, labelled {row['conflict']}"
        versions = " ".join(v.text for c in a.conflicts for v in c.versions)
        missing = [v for v in row["values"] if not any_of(v, versions)]
        return (not missing, f"values missing from the versions: {missing}" if missing else "")
    if flagged:
        return False, "conflict flagged on a question labelled without one"
    if kind == "latest":
        if not a.citations:
            return False, "no citation"
        first = a.citations[0]
        latest = str(a.trace.get("answerer", a.trace).get("analyst", {}).get("latest_date"))
        if not any_of(row["gold"], first.quote):
            return False, f"first quote {first.quote!r} lacks {row['gold']!r}"
        if latest != row["date"] or row["date"] not in a.text:
            return False, f"latest date {latest}, labelled {row['date']}"
        return True, ""
    if kind == "timeline":
        dates = a.trace.get("answerer", a.trace).get("analyst", {}).get("timeline") or []
        if dates != sorted(dates):
            return False, f"items out of order: {dates}"
        pos = 0
        for want in row["dates"]:
            while pos < len(dates) and dates[pos] != want:
                pos += 1
            if pos == len(dates):
                return False, f"{want} missing or out of order in {dates}"
        return True, ""
    # attribution
    for line in a.text.splitlines():
        if any_of(row["gold"], line):
            head = line.split(":")[0] if line.startswith("According to") else strip_markers(line)
            if row["speaker"].lower() in head.lower():
                return True, ""
            return False, f"gold text not attributed to {row['speaker']}: {line[:120]!r}"
    return False, f"gold {row['gold']!r} not in the answer"


def claims(a: Answer) -> list[tuple[str, list[int]]]:
    """(claim, its footnotes) for every cell, version and quoted line of a structured or plain answer."""
    if a.table is not None:
        return [(c.text, c.citations) for r in a.table.rows for c in r.cells if c.text != NOT_STATED]
    if a.conflicts:
        return [(v.text, v.citations) for c in a.conflicts for v in c.versions]
    return [(c.quote, [c.n]) for c in a.citations]


def supported(question: str, a: Answer, verifier: CitationVerifier) -> tuple[int, int, list[str]]:
    ok, total, bad = 0, 0, []
    by_n = {c.n: c for c in a.citations}
    for text, ns in claims(a):
        total += 1
        cites = [by_n[n] for n in ns if n in by_n]
        if not cites:
            bad.append(f"uncited: {text[:80]!r}")
            continue
        if all(_holds(question, text, c, verifier) for c in cites[:1]):
            ok += 1
        else:
            bad.append(f"unsupported: {text[:80]!r}")
    return ok, total, bad


def _holds(question: str, claim: str, c: Citation, verifier: CitationVerifier) -> bool:
    if c.quote not in c.context or claim not in c.quote:
        return False
    passage = Passage(c.chunk_id, c.context, c.source, c.title, c.source, c.url, c.date)
    # Checked as the verifier checks answer sentences: each sentence of the claim, with its footnote.
    marked = " ".join(attach_markers(s.text, [1]) for s in split_sentences(claim))
    result = verifier.verify(question, marked, [passage])
    return result.outcome == "ok" and all(ch.action == "kept" for ch in result.checks)


async def run(
    rows: list[dict[str, Any]], data_dir: Path, show: bool, settings_override: AnalystSettings | None = None
) -> list[dict[str, Any]]:
    from bot.cli import build_engine
    from index.embeddings import make_embedder
    from index.ingest import Ingestor

    settings = bench_settings(data_dir, answer_mode="extractive")
    files = sorted(p for folder in FOLDERS for p in folder.glob("*.md"))
    Ingestor(settings, make_embedder(settings)).run(files)
    engine = build_engine(settings)  # the product's wiring: the AnalystRouter around the configured strategy
    assert isinstance(engine.strategy, AnalystRouter)
    if settings_override is not None:
        engine.strategy.settings = settings_override
    verifier = CitationVerifier(engine.strategy.answerer.embed)
    out = []
    for row in rows:
        a = await engine.aask(row["question"])
        right, why = structure_right(row, a)
        ok, total, bad = await asyncio.to_thread(supported, row["question"], a, verifier)
        flagged = bool(a.conflicts)
        rec = {
            "id": row["id"], "split": row["split"], "type": row["type"], "structure_right": right, "why": why,
            "claims": total, "supported": ok, "unsupported": bad, "flagged": flagged,
            "no_conflict_labelled": not row.get("conflict", False),
        }  # fmt: skip
        out.append(rec)
        if show:
            print(f"--- {row['id']} [{row['type']}] {row['question']}\n{a.text}\n=> {right} {why} {bad}\n")
    return out


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for split in ("dev", "test"):
        recs = [r for r in records if r["split"] == split]
        if not recs:
            continue
        per: dict[str, Any] = {}
        for kind in TYPES:
            rs = [r for r in recs if r["type"] == kind]
            if rs:
                claims_n = sum(r["claims"] for r in rs)
                per[kind] = {
                    "n": len(rs),
                    "structure_right": round(sum(r["structure_right"] for r in rs) / len(rs), 3),
                    "claims": claims_n,
                    "claims_supported": round(sum(r["supported"] for r in rs) / claims_n, 3) if claims_n else None,
                }
        neg = [r for r in recs if r["no_conflict_labelled"]]
        conflict_rows = [r for r in recs if r["type"] == "conflict"]
        flagged = [r for r in conflict_rows if r["flagged"]]
        true_flags = [r for r in flagged if not r["no_conflict_labelled"]]
        claims_all = sum(r["claims"] for r in recs)
        per["all"] = {
            "n": len(recs),
            "structure_right": round(sum(r["structure_right"] for r in recs) / len(recs), 3),
            "claims_supported": round(sum(r["supported"] for r in recs) / claims_all, 3) if claims_all else None,
            "false_conflict_flags": round(sum(r["flagged"] for r in neg) / len(neg), 3) if neg else None,
            "conflict_precision": round(len(true_flags) / len(flagged), 3) if flagged else None,
        }
        summary[split] = per
    return summary


# The grid `--sweep` tries, one setting at a time around the defaults (types are independent: each setting is
# read only by its own question type). Every default in bot/answering/analyst records its sweep result.
SWEEP: tuple[tuple[str, str, tuple[float, ...]], ...] = (
    ("compare", "compare.min_score", (0.06, 0.08, 0.1143, 0.14, 0.18, 0.22)),
    ("compare", "compare.min_semantic", (0.25, 0.3, 0.35, 0.4, 0.5)),
    ("conflict", "conflicts.min_score", (0.1143, 0.15, 0.2, 0.25)),
    ("conflict", "conflicts.margin", (0.1, 0.15, 0.2, 0.3)),
    ("latest", "dated.latest_min", (0.08, 0.1143, 0.15, 0.2, 0.25)),
    ("latest", "dated.latest_margin", (0.05, 0.1, 0.15, 0.2, 0.3, 0.5)),
    ("timeline", "dated.timeline_min", (0.0, 0.02, 0.04, 0.06, 0.08, 0.1143, 0.15)),
    ("timeline", "dated.timeline_depth", (2, 3, 4, 5, 6, 8)),  # counts: ints
    ("timeline", "dated.max_items", (12, 14, 16, 20)),
    ("attribution", "dated.attribution_min", (0.1143, 0.15, 0.2, 0.25)),
)


async def sweep(data_dir: Path, only: str | None = None) -> None:
    """Structure right and supported claims per threshold value, on dev rows only (tune on dev)."""
    from bot.cli import build_engine
    from index.embeddings import make_embedder
    from index.ingest import Ingestor

    settings = bench_settings(data_dir, answer_mode="extractive")
    Ingestor(settings, make_embedder(settings)).run(sorted(p for folder in FOLDERS for p in folder.glob("*.md")))
    engine = build_engine(settings)
    router = engine.strategy
    assert isinstance(router, AnalystRouter)
    verifier = CitationVerifier(router.answerer.embed)
    dev = load("dev")
    base = AnalystSettings()
    for kind, name, values in SWEEP:
        if only is not None and kind != only:
            continue
        group, attr = name.split(".")
        for value in values:
            parts: dict[str, Any] = {"compare": base.compare, "conflicts": base.conflicts, "dated": base.dated}
            parts[group] = dataclasses.replace(parts[group], **{attr: value})
            router.settings = AnalystSettings(**parts)
            rows = [r for r in dev if r["type"] == kind]
            right, ok, total, fails = 0, 0, 0, []
            for row in rows:
                a = await engine.aask(row["question"])
                good, _ = structure_right(row, a)
                o, t, _ = await asyncio.to_thread(supported, row["question"], a, verifier)
                right, ok, total = right + good, ok + o, total + t
                fails += [] if good else [row["id"]]
            print(f"{kind:12s} {name}={value}: right {right}/{len(rows)} supported {ok}/{total} failed {fails}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--show", action="store_true", help="print every answer")
    parser.add_argument("--sweep", action="store_true", help="sweep the thresholds on the dev split")
    parser.add_argument("--sweep-type", choices=TYPES, help="only this question type's thresholds")
    parser.add_argument(
        "--lower", action="store_true", help="ask every question lower-cased without its '?', as Discord users type"
    )
    args = parser.parse_args()
    if args.sweep:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(sweep(Path(tmp) / "data", args.sweep_type))
        return
    rows = load(args.split)
    if args.lower:
        rows = [lowered(r) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        records = asyncio.run(run(rows, Path(tmp) / "data", args.show))
    summary = summarise(records)
    for split, per in summary.items():
        print(f"== {split}")
        for kind, m in per.items():
            print(f"  {kind:12s} {json.dumps(m)}")
    failures = [r for r in records if not r["structure_right"] or r["unsupported"]]
    for r in failures:
        print(f"  FAIL {r['id']} ({r['split']}/{r['type']}): {r['why']} {r['unsupported']}")
    if args.split == "all" and not args.lower:
        write_result("analyst", {"command": "python -m bench.analyst", "summary": summary, "records": records})


if __name__ == "__main__":
    main()
