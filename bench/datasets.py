"""Loaders for the evaluation data in `../shared/eval/` (never copied into the repo).

- SciFact (BEIR test split): 5,183 abstracts, 300 test claims, 339 graded qrels; plus the 809 train claims
  (their cited documents as qrels) for tuning without touching the test set.
- RealTime QA (dev weeks): every article of every question pooled into one corpus keyed by URL; the gold
  answer is `choices[int(answer[0])]`.

The shared directory is `<repo>/../shared` unless `FOOTNOTE_SHARED_DIR` points elsewhere.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import tokenize
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from bench.metrics import normalize_answer

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    override = os.environ.get("FOOTNOTE_SHARED_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared"


def eval_dir() -> Path:
    return shared_dir() / "eval"


@dataclass(frozen=True)
class Doc:
    doc_id: str
    title: str
    text: str
    meta: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def full_text(self) -> str:
        """BEIR convention: title + " " + body."""
        return f"{self.title} {self.text}".strip()


@dataclass(frozen=True)
class RetrievalDataset:
    name: str
    corpus: dict[str, Doc]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # query id -> doc id -> graded relevance

    @property
    def doc_ids(self) -> list[str]:
        return list(self.corpus)


# --------------------------------------------------------------------------------------------- SciFact


def parse_sentence_list(raw: str) -> list[str]:
    """The abstract column is the repr of a numpy string array: `['s1'\\n 's2' ...]` with no commas, so
    `ast.literal_eval` would glue adjacent sentences together. Read each string literal on its own."""
    out: list[str] = []
    for tok in tokenize.generate_tokens(io.StringIO(raw).readline):
        if tok.type == tokenize.STRING:
            out.append(str(ast.literal_eval(tok.string)).strip())
    return out


def _parse_id_list(raw: str) -> list[str]:
    return re.findall(r"\d+", raw)


def _read_zip_csv(zf: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with zf.open(name) as fh:
        return list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))


def _scifact_zip() -> Path:
    return eval_dir() / "scifact" / "scifact_hf_csv.zip"


@cache
def _scifact_corpus() -> dict[str, Doc]:
    with zipfile.ZipFile(_scifact_zip()) as zf:
        rows = _read_zip_csv(zf, "corpus_train.csv")
    corpus: dict[str, Doc] = {}
    for r in rows:
        text = " ".join(parse_sentence_list(r["abstract"]))
        corpus[r["doc_id"]] = Doc(r["doc_id"], r["title"].strip(), text, {"structured": r["structured"]})
    return corpus


def _scifact_claims(split: str) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    with zipfile.ZipFile(_scifact_zip()) as zf:
        rows = _read_zip_csv(zf, f"claims_{split}.csv")
    queries: dict[str, str] = {}
    cited: dict[str, dict[str, int]] = {}
    for r in rows:
        queries[r["id"]] = r["claim"].strip()
        for doc_id in _parse_id_list(r["cited_doc_ids"]):
            cited.setdefault(r["id"], {})[doc_id] = 1
    return queries, cited


def _read_qrels_tsv(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0] == "query-id":
                continue
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


def load_scifact(split: str = "test") -> RetrievalDataset:
    """`test`: the 300 BEIR test claims with `qrels_test.tsv`. `train`: the 809 train claims, qrels = their
    cited documents (as BEIR's train qrels) -- use it to tune fusion weights, report on test."""
    corpus = _scifact_corpus()
    if split == "test":
        queries, _ = _scifact_claims("validation")
        qrels = _read_qrels_tsv(eval_dir() / "scifact" / "qrels_test.tsv")
    elif split == "train":
        queries, qrels = _scifact_claims("train")
    else:
        raise ValueError(f"unknown SciFact split {split!r} (use 'test' or 'train')")
    queries = {q: t for q, t in queries.items() if q in qrels}
    return RetrievalDataset(f"scifact-{split}", corpus, queries, qrels)


# ----------------------------------------------------------------------------------------- RealTime QA


@dataclass(frozen=True)
class QAItem:
    qid: str
    question: str
    date: str
    choices: tuple[str, ...]
    gold: str
    source_urls: tuple[str, ...]  # the search results stored for this question (all are in the pooled corpus)


@dataclass(frozen=True)
class QADataset:
    name: str
    corpus: dict[str, Doc]  # url -> article
    questions: list[QAItem]

    def answerable(self) -> list[QAItem]:
        """Questions whose normalised gold string occurs in some article of the pooled corpus."""
        normed = [normalize_answer(d.full_text) for d in self.corpus.values()]
        out = []
        for q in self.questions:
            gold = normalize_answer(q.gold)
            if gold and any(gold in t for t in normed):
                out.append(q)
        return out


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_realtimeqa(weeks: list[str] | None = None) -> QADataset:
    past = eval_dir() / "realtimeqa_dev" / "past"
    all_weeks = sorted(p.name.removesuffix("_qa.jsonl") for p in past.glob("*_qa.jsonl"))
    weeks = all_weeks if weeks is None else weeks
    corpus: dict[str, Doc] = {}
    urls_by_q: dict[str, tuple[str, ...]] = {}
    questions: list[QAItem] = []
    for week in weeks:
        for rec in _jsonl(past / f"{week}_gcs.jsonl"):
            urls = []
            for art in rec.get("search_result") or []:
                url = art["url"]
                urls.append(url)
                text = (art.get("text") or "").strip()
                if url in corpus and (corpus[url].text or not text):
                    continue  # keep the first copy that has text
                meta = {
                    "publish_date": art.get("publish_date") or "",
                    "authors": ", ".join(art.get("authors") or []),
                }
                corpus[url] = Doc(url, (art.get("title") or "").strip(), text, meta)
            urls_by_q[rec["question_id"]] = tuple(urls)
        for rec in _jsonl(past / f"{week}_qa.jsonl"):
            choices = tuple(rec["choices"])
            questions.append(
                QAItem(
                    qid=rec["question_id"],
                    question=rec["question_sentence"].strip(),
                    date=rec.get("question_date", ""),
                    choices=choices,
                    gold=choices[int(rec["answer"][0])],
                    source_urls=urls_by_q.get(rec["question_id"], ()),
                )
            )
    return QADataset("realtimeqa-dev", corpus, questions)
