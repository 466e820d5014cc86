"""Citation precision and refusal through the real engine (extractive mode), on the project's own QA sets.

    python -m bench.citations

- tests/data/seed_qa.jsonl: questions on the seed article (../shared/seed/*.txt, ingested as one document);
- tests/data/corpus_qa.jsonl: questions over examples/corpus (8 files).
Each set is ingested fresh with the real Ingestor into a temp data dir, and each question goes through
`bot.cli.build_engine(settings).ask`. Per set:
- answerable correct: the answer contains every gold string (or one, unless `gold_all`) AND a cited quote does;
- cited sentences supported, (a) by the engine's own `CitationVerifier` (the sentence is kept with its own
  citation), (b) by an exact check: every cited quote is a verbatim substring of the cited chunk as stored in
  Chroma, and every number of the sentence occurs in one of its quotes;
- unanswerable refused; answerable wrongly refused.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.datasets import REPO_ROOT, shared_dir
from bench.metrics import contains
from bench.pipeline import bench_settings, print_table, write_result

DATA = REPO_ROOT / "tests" / "data"


def load_qa(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def seed_article() -> Path:
    found = sorted((shared_dir() / "seed").glob("*.txt"))
    if not found:
        raise FileNotFoundError(f"no seed article in {shared_dir() / 'seed'}")
    return found[0]


def sample_corpus() -> Path:
    return REPO_ROOT / "examples" / "corpus"


def build(paths: Iterable[Path], data_dir: Path, embedder: Any) -> tuple[Any, Any]:
    """Ingest `paths` with the real Ingestor; the real extractive engine over it, and its vector index."""
    from bot.cli import build_engine
    from index.embeddings import embedder_id
    from index.ingest import Ingestor
    from index.store import VectorIndex

    settings = bench_settings(data_dir, answer_mode="extractive")
    Ingestor(settings, embedder).run(list(paths))
    engine = build_engine(settings)
    index = VectorIndex.open(settings, embedder_id=embedder_id(settings), create=False)
    return engine, index


def cited_units(text: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, its footnote numbers) for every sentence of an answer."""
    from bot.text.markers import parse_markers
    from bot.text.sentences import split_sentences

    out: list[tuple[str, list[int]]] = []
    for span in split_sentences(text):
        import re

        claim = re.sub(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]", "", span.text).strip()
        cited = parse_markers(span.text)
        if not re.search(r"[A-Za-z0-9]", claim):
            if out and cited:
                out[-1] = (out[-1][0], out[-1][1] + cited)
            continue
        out.append((claim, cited))
    return out


def _stated(citation: Any) -> set[str]:
    """The numbers of the date the quote states, written as an ISO label (its year from the document's date)."""
    from bot.answering.analyst.dates import stated_date
    from bot.text.terms import numbers

    year = int(citation.date[:4]) if (citation.date or "")[:4].isdigit() else None
    when = stated_date(citation.quote or "", year)
    return numbers(when.label()) if when else set()


def check_answer(verifier: Any, stored: dict[str, str], item: dict[str, Any], answer: Any) -> dict[str, Any]:
    """Score one answer: correctness, refusal, and citation support (`verifier`: a `CitationVerifier`, the one
    the LLM path uses; and exact)."""
    from bot.answer import Passage
    from bot.text.markers import strip_bullet, strip_markers
    from bot.text.terms import numbers

    def key(sentence: str) -> str:
        return " ".join(strip_bullet(strip_markers(sentence)).split()).rstrip(".")

    gold = list(item.get("gold") or [])
    need_all = bool(item.get("gold_all"))
    quotes = [c.quote for c in answer.citations]
    in_answer = [bool(contains(answer.text, g)) for g in gold]
    in_quote = [any(contains(q, g) for q in quotes) for g in gold]
    both = [a and b for a, b in zip(in_answer, in_quote, strict=True)]
    correct = bool(gold) and not answer.refused and (all(both) if need_all else any(both))

    units = [] if answer.refused else [(s, ns) for s, ns in cited_units(answer.text) if ns]
    verifier_ok = exact_ok = 0
    details = []
    if units:
        by_n = {c.n: c for c in answer.citations}
        top = max(by_n)
        # The verifier sees the cited chunks as passages [1..n], numbered like the footnotes.
        passages = [
            Passage(chunk_id=c.chunk_id, text=c.context, doc_id="", title=c.title, source=c.source, date=c.date)
            if (c := by_n.get(n)) else Passage(chunk_id=f"missing-{n}", text="", doc_id="", title="", source="")
            for n in range(1, top + 1)
        ]
        text = " ".join(f"{s} {''.join(f'[{n}]' for n in ns)}" for s, ns in units)
        result = verifier.verify(item["question"], text, passages, mode="extractive")
        checks = [c for c in result.checks if c.cited]
        # Each unit is matched to the verifier's check of the same sentence (the verifier may split an answer
        # differently, e.g. a "- 2021-02:" timeline line): zipping the two lists dropped or shifted units.
        by_sentence = {key(c.sentence): c for c in checks}
        for sentence, ns in units:
            check = by_sentence.get(key(sentence))
            v_ok = check is not None and check.action == "kept"
            cits = [by_n[n] for n in ns if n in by_n]
            verbatim = bool(cits) and all(c.quote and c.quote in stored.get(c.chunk_id, "") for c in cits)
            nums = numbers(sentence)
            # A number may come from the quote, be the date the quote states in ISO form ("February 2021" ->
            # "2021-02"), or be the cited document's own date: analyst answers label a line with one of these
            # ("2021-02: ...", "(as of 2022-12-20)") and the footnote shows the document's. Nothing else.
            quote_nums = set().union(*(numbers(c.quote) | numbers(c.date or "") | _stated(c) for c in cits))
            e_ok = verbatim and nums <= quote_nums
            verifier_ok += v_ok
            exact_ok += e_ok
            details.append({"sentence": sentence, "cited": ns, "verifier": check.action if check else None,
                            "exact": e_ok,
                            **({"reason": check.reason if check else "no verifier check of this sentence"}
                               if not v_ok else {})})
    return {
        "id": item["id"], "answerable": bool(item["answerable"]), "refused": bool(answer.refused),
        "correct": correct, "cited_sentences": len(units), "verifier_supported": verifier_ok,
        "exact_supported": exact_ok, "answer": answer.text[:500], "sentences": details,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    cited = sum(r["cited_sentences"] for r in rows)

    def share(num: float, den: float) -> float:
        return round(num / den, 4) if den else 0.0

    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(una),
        "answerable_correct": share(sum(r["correct"] for r in ans), len(ans)),
        "answerable_wrongly_refused": share(sum(r["refused"] for r in ans), len(ans)),
        "unanswerable_refused": share(sum(r["refused"] for r in una), len(una)),
        "cited_sentences": cited,
        "cited_supported_verifier": share(sum(r["verifier_supported"] for r in rows), cited),
        "cited_supported_exact": share(sum(r["exact_supported"] for r in rows), cited),
    }


def stored_chunks(index: Any) -> dict[str, str]:
    return {n.node_id: n.get_content() for n in index.nodes()}


def make_verifier(embedder: Any) -> Any:
    from bot.answering.verify import CitationVerifier

    return CitationVerifier(embedder)


def run_items(engine: Any, verifier: Any, stored: dict[str, str], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item asked on its own (no conversation), scored by `check_answer`."""
    return [check_answer(verifier, stored, item, engine.ask(item["question"])) for item in items]


def run_set(name: str, paths: list[Path], qa_file: str, embedder: Any, tmp: Path) -> dict[str, Any]:
    engine, index = build(paths, tmp / name, embedder)
    stored = stored_chunks(index)
    rows = run_items(engine, make_verifier(embedder), stored, load_qa(qa_file))
    return {"summary": summarise(rows), "rows": rows, "chunks": len(stored)}


def operating_point(engine_cls_defaults: bool = True) -> dict[str, Any]:
    from bot.answering.extractive import ExtractiveAnswerer
    from bot.answering.verify import CitationVerifier
    from index.settings import Settings

    ex = ExtractiveAnswerer.__init__.__kwdefaults__ or {}
    ver = CitationVerifier.__init__.__kwdefaults__ or {}
    return {
        "extractive": {k: ex[k] for k in ("min_relevance", "select_threshold", "margin", "max_sentences") if k in ex},
        "verifier": {k: ver[k] for k in ("min_lexical", "min_semantic") if k in ver},
        "top_k": Settings.model_fields["top_k"].default,
    }


def main() -> None:
    from index.embeddings import LocalMiniLMEmbedding

    embedder = LocalMiniLMEmbedding()
    with tempfile.TemporaryDirectory() as tmp:
        sets = {
            "seed_qa": run_set("seed_qa", [seed_article()], "seed_qa.jsonl", embedder, Path(tmp)),
            "corpus_qa": run_set("corpus_qa", [sample_corpus()], "corpus_qa.jsonl", embedder, Path(tmp)),
        }
    all_rows = [r for s in sets.values() for r in s["rows"]]
    summaries = {**{n: s["summary"] for n, s in sets.items()}, "both": summarise(all_rows)}
    cols = ["answerable_correct", "answerable_wrongly_refused", "unanswerable_refused",
            "cited_supported_verifier", "cited_supported_exact"]
    print_table(
        ["set", "q (ans/unans)", "correct", "wrongly refused", "unans refused", "cited (verifier)",
         "cited (exact)", "cited sents"],
        [[n, f"{m['questions']} ({m['answerable']}/{m['unanswerable']})", *(m[c] for c in cols),
          m["cited_sentences"]] for n, m in summaries.items()],
        title="citations and refusals (real engine, extractive mode)",
    )
    point = operating_point()
    print(f"\noperating point: {json.dumps(point)}")
    for r in all_rows:
        if (r["answerable"] and not r["correct"]) or (not r["answerable"] and not r["refused"]):
            print(f"  miss {r['id']}: refused={r['refused']} -> {r['answer'][:150]!r}")
    write_result("citations", {"mode": "extractive (no LLM configured)", "operating_point": point,
                               "summary": summaries, "sets": sets})


if __name__ == "__main__":
    main()
