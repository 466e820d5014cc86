"""The verifier benchmark's data: SciFact (claim, evidence) pairs and mutations of true (claim, span) pairs.

SciFact (../shared/eval/scifact, CC BY-NC 2.0): each labelled row is (claim, abstract, SUPPORT|CONTRADICT,
rationale sentence ids). The abstract's title is each passage's title. Three groups per row:
the claim against its rationale sentences (SUPPORT rows /
CONTRADICT rows) and against the abstract's other sentences ("non-rationale"). Split by claim id:
claims_train.csv is dev (the operating point is tuned on it), claims_validation.csv is test (never tuned on;
its claim ids are disjoint from train's, asserted below). claims_test.csv has no labels.

Mutations: the true pairs are the sentences (and clauses of >= 5 words) of the seed article
(../shared/seed/*.txt) and of examples/corpus, each cited to its own paragraph, with every paragraph of the
same document offered as a passage (so re-pointing is possible). Each sentence holding a name or a number
yields up to one mutation per type:
- entity: a name of the claim replaced by another name of the same passage;
- number: a number (or month, or year) replaced by another of the same kind from the same passage;
- negation: "not" after the first auxiliary, else "never" before the first past-tense verb;
- exchange: two names of the claim that stand on either side of a content word swapped ("Turkey supplied
  Tajikistan" -> "Tajikistan supplied Turkey"); coordinated names ("X and Y", "between X and Y") are not.
Pairs are split dev/test by a hash of the sentence, so rules can be developed on dev and read on test.
A sentence that is a question is not a claim (since 2026-12-07).

News mutations (`news_mutation_pairs`): the same mutations over RealTime QA news articles, documents nobody here
wrote, split dev/test by ARTICLE (see below).
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench.datasets import REPO_ROOT, eval_dir, parse_sentence_list, shared_dir
from bot.answer import Passage
from bot.answering.alignment import aliased
from bot.answering.statements import is_question  # a question is not a claim (since 2026-12-07)
from bot.text.abbreviations import abbreviations
from bot.text.sentences import split_sentences
from bot.text.terms import MONTH_NAMES, STOPWORDS, names, numbers, proper_vocabulary, same_name

# ------------------------------------------------------------------------------------------------ SciFact


@dataclass(frozen=True)
class Pair:
    """One claim checked against passages; `cited` (0-based) is the passage the claim's footnote names."""

    id: str
    group: str  # SciFact: support / contradict / non_rationale; mutations: true / entity / number / ...
    claim: str
    passages: tuple[Passage, ...]
    cited: int = 0
    split: str = "dev"
    source: str = ""  # where the claim came from (document, original sentence)
    # The claim is a paragraph of one line with no end punctuation: a heading, a link to another story or a byline
    # ("Live updates: ...", "Contributing: ..."). It asserts nothing, and since 2026-12-07 the verifier lets no such
    # line back a claim (bot/answering/aligner.heading_line), so bench.verifier reports true pairs with and
    # without them ("true_statement", "true_line"). Decided here from the article, not by the product's code.
    line: bool = False


def _passage(pid: str, text: str, *, title: str = "", source: str = "", heading: str | None = None) -> Passage:
    return Passage(chunk_id=pid, text=text, doc_id=pid.split(":")[0], title=title, source=source, heading=heading)


def scifact_pairs(split: str) -> list[Pair]:
    """split "dev" = claims_train.csv, "test" = claims_validation.csv."""
    name = {"dev": "train", "test": "validation"}[split]
    with zipfile.ZipFile(eval_dir() / "scifact" / "scifact_hf_csv.zip") as zf:
        docs = _rows(zf, "corpus_train.csv")
        corpus = {r["doc_id"]: parse_sentence_list(r["abstract"]) for r in docs}
        titles = {r["doc_id"]: r["title"].strip() for r in docs}
        rows = _rows(zf, f"claims_{name}.csv")
        other = _rows(zf, "claims_validation.csv" if name == "train" else "claims_train.csv")
    assert not {r["id"] for r in rows} & {r["id"] for r in other}, "SciFact dev and test share claim ids"
    pairs: list[Pair] = []
    for r in rows:
        label = r["evidence_label"].strip().lower()
        if label not in ("support", "contradict") or r["evidence_doc_id"] not in corpus:
            continue
        sentences = corpus[r["evidence_doc_id"]]
        ids = sorted({int(i) for i in re.findall(r"\d+", r["evidence_sentences"]) if int(i) < len(sentences)})
        if not ids:
            continue
        key = f"{r['id']}:{r['evidence_doc_id']}"
        rationale = " ".join(sentences[i] for i in ids)
        # The abstract's title is the passage's document title, as a stored chunk has it: the verifier may find a
        # name there (as in the product), never the support itself.
        title = titles.get(r["evidence_doc_id"], "")
        pairs.append(Pair(key, label, r["claim"].strip(), (_passage(key, rationale, title=title),), split=split))
        rest = " ".join(s for i, s in enumerate(sentences) if i not in ids)
        if rest.strip():
            pairs.append(Pair(key + ":rest", "non_rationale", r["claim"].strip(),
                              (_passage(key, rest, title=title),), split=split))
    # A claim may carry several rows for one abstract (several rationale sets): one pair per group and key.
    seen: set[tuple[str, str]] = set()
    unique = []
    for p in pairs:
        if (p.group, p.id) not in seen:
            seen.add((p.group, p.id))
            unique.append(p)
    return unique


def _rows(zf: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with zf.open(name) as fh:
        return list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8")))


# ---------------------------------------------------------------------------------------------- mutations

_AUX = re.compile(r"\b(is|are|was|were|has|have|had|will|would|can|could|should|does|do|did)\b(?!\s+(?:not|n't)\b)")
_PAST = re.compile(r"\b([a-z]{3,}ed)\b")
# Curly apostrophes count ("didn’t", "won’t"): news text uses them, and a second negation made garbage, not a
# mutation ("didn’t have not").
_NEGATED = re.compile(r"\b(not|no|never|none|nor|without)\b|n['’]t\b", re.I)
_NUM = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w])")


def _documents() -> list[tuple[str, str, list[tuple[str | None, str]]]]:
    """(doc name, title, [(heading, paragraph)]) for the seed article and each examples/corpus file."""
    docs: list[tuple[str, str, list[tuple[str | None, str]]]] = []
    for path in sorted((shared_dir() / "seed").glob("*.txt")):
        lines = [p.strip() for p in path.read_text(encoding="utf-8").splitlines() if len(p.strip()) > 40]
        docs.append((path.stem, "seed article", [(None, p) for p in lines]))
    for path in sorted((REPO_ROOT / "examples" / "corpus").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        title_m = re.search(r'^title:\s*"?(.*?)"?\s*$', text, re.M)
        body = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
        heading: str | None = None
        paragraphs: list[tuple[str | None, str]] = []
        for block in re.split(r"\n\s*\n", body):
            block = block.strip()
            if block.startswith("#"):
                heading = block.lstrip("# ").strip()
            elif len(block) > 40 and not (block.startswith("*") and block.endswith("*")):
                paragraphs.append((heading, block))
        docs.append((path.stem, title_m.group(1) if title_m else path.stem, paragraphs))
    return docs


def _split_of(text: str) -> str:
    return "dev" if int(hashlib.md5(text.encode()).hexdigest(), 16) % 2 == 0 else "test"


def _clauses(sentence: str) -> list[str]:
    parts = re.split(r"[;:]\s+|,\s+(?=(?:which|while|but|whereas|although|and|as|with)\b)", sentence)
    return [p.strip(" ,.") + "." for p in parts if len(p.split()) >= 5 and p.strip() != sentence.strip()]


def mutation_pairs(seed: int = 13) -> list[Pair]:
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for doc, title, paragraphs in _documents():
        passages = tuple(
            _passage(f"{doc}:{i}", text, title=title, source=doc, heading=heading)
            for i, (heading, text) in enumerate(paragraphs)
        )
        for j, p in enumerate(passages):
            proper = proper_vocabulary([p.text])
            for k, span in enumerate(split_sentences(p.text)):
                sentence = span.text.strip()
                if len(sentence.split()) < 5 or sentence.startswith(("-", "*")) or is_question(sentence):
                    continue
                facts = names(sentence, proper) | numbers(sentence)
                if not facts:
                    continue
                split = _split_of(sentence)
                base = f"{doc}:{j}:{k}"
                pairs.append(Pair(base, "true", sentence, passages, j, split, sentence))
                for c, clause in enumerate(_clauses(sentence)):
                    if names(clause, proper) | numbers(clause):
                        pairs.append(Pair(f"{base}:c{c}", "true_clause", clause, passages, j, split, sentence))
                document = " ".join(q.text for q in passages)
                for group, mutated in _mutations(sentence, p.text, document, proper, rng).items():
                    pairs.append(Pair(f"{base}:{group}", group, mutated, passages, j, split, sentence))
    return pairs


# News mutations: documents nobody here wrote (RealTime QA articles: CNN, Yahoo, ABC ... news; ../shared/eval).
# Split by ARTICLE, not by sentence: dev articles and test articles share no text, so a rule fitted on dev meets
# test documents it has never seen. The articles are ordered by a hash of their URL (not by anything the verifier
# does on them); the first NEWS_ARTICLES of each split are used. Each claim is offered its own paragraph and up to
# NEWS_WINDOW paragraphs either side (about five passages, like a top-5 retrieval), cited to its own paragraph.
NEWS_ARTICLES = 40
NEWS_WINDOW = 2


def news_split(url: str) -> str:
    return "dev" if int(hashlib.md5(url.encode()).hexdigest(), 16) % 2 == 0 else "test"


def news_mutation_pairs(seed: int = 17, articles: int = NEWS_ARTICLES) -> list[Pair]:
    """The mutation pairs (same rules as `mutation_pairs`) over RealTime QA news articles; ids "news:<split><n>:..."."""
    from bench.datasets import load_realtimeqa

    rng = random.Random(seed)
    corpus = load_realtimeqa().corpus
    ordered = sorted((u for u in corpus if corpus[u].text.strip()), key=lambda u: hashlib.md5(u.encode()).hexdigest())
    pairs: list[Pair] = []
    for split in ("dev", "test"):
        for a, url in enumerate([u for u in ordered if news_split(u) == split][:articles]):
            doc = corpus[url]
            paragraphs = [" ".join(b.split()) for b in re.split(r"\n\s*\n", doc.text) if len(b.strip()) > 40]
            document = " ".join(paragraphs)
            proper = proper_vocabulary(paragraphs)
            for j, paragraph in enumerate(paragraphs):
                lo = max(0, j - NEWS_WINDOW)
                window = paragraphs[lo : j + NEWS_WINDOW + 1]
                passages = tuple(_passage(f"news{split}{a}:{lo + i}", t, title=doc.title or url, source=url)
                                 for i, t in enumerate(window))
                for k, span in enumerate(split_sentences(paragraph)):
                    sentence = span.text.strip()
                    if len(sentence.split()) < 5 or sentence.startswith(("-", "*")) or is_question(sentence):
                        continue
                    if not (names(sentence, proper) | numbers(sentence)):
                        continue
                    base = f"news:{split}{a}:{j}:{k}"
                    line = sentence == paragraph.strip() and not re.search(r"[.!?…:;)\]\"”'»]\s*$", sentence)
                    pairs.append(Pair(base, "true", sentence, passages, j - lo, split, sentence, line))
                    for group, mutated in _mutations(sentence, paragraph, document, proper, rng).items():
                        pairs.append(Pair(f"{base}:{group}", group, mutated, passages, j - lo, split, sentence))
    return pairs


_RUN = re.compile(r"[A-Z][\w\-]*(?:[’']s\b)?(?:\s+[A-Z][\w\-]*(?:[’']s\b)?)*")


@dataclass(frozen=True)
class _Entity:
    start: int
    end: int
    text: str
    words: frozenset[str]


def _entities(text: str, proper: set[str]) -> list[_Entity]:
    """Runs of capitalised words that hold a name ("Kyrgyz President Sadyr Japarov", "Baykar"), without a
    leading function word ("The Kyrgyz" -> "Kyrgyz") or a possessive ending; months and sentence openers are not."""
    found = names(text, proper)
    out = []
    for m in _RUN.finditer(text):
        start, run = m.start(), m.group()
        while True:
            first = run.split()[0]
            if (first.lower() in found and first.lower() not in MONTH_NAMES) or " " not in run:
                break
            start += len(first) + 1
            run = run[len(first) + 1 :]
        run = re.sub(r"[’']s$", "", run)
        key = {w.lower() for w in run.split()}
        if key & found and not key <= MONTH_NAMES and run.lower() not in STOPWORDS:
            out.append(_Entity(start, start + len(run), run, frozenset(key)))
    return out


def _disjoint(a: _Entity, b: _Entity) -> bool:
    return not any(same_name(x, y) for x in a.words for y in b.words)


def _numbers(text: str) -> list[re.Match[str]]:
    return [m for m in _NUM.finditer(text) if not _in_designator(text, m.start())]


def _in_designator(text: str, start: int) -> bool:
    return start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha()


def _is_year(n: str) -> bool:
    return len(n) == 4 and n.startswith(("19", "20"))


def _mutations(sentence: str, passage: str, document: str, proper: set[str], rng: random.Random) -> dict[str, str]:
    out: dict[str, str] = {}
    ents = _entities(sentence, proper)
    # entity: a name of the claim -> another name of the passage that the claim does not mention
    if ents:
        e = rng.choice(ents)
        others = sorted({o.text for o in _entities(passage, proper) if all(_disjoint(o, c) for c in ents)})
        if others:
            out["entity"] = sentence[: e.start] + rng.choice(others) + sentence[e.end :]
    # number / date: a number -> another of the same kind (year or not) from the passage, else the document;
    # a month -> another month
    nums = _numbers(sentence)
    if nums:
        m = rng.choice(nums)
        for pool in (passage, document):
            same_kind = sorted({
                n.group() for n in _numbers(pool)
                if _is_year(n.group()) == _is_year(m.group())
                and n.group().replace(",", "") != m.group().replace(",", "") and n.group() not in sentence
            })
            if same_kind:
                out["number"] = sentence[: m.start()] + rng.choice(same_kind) + sentence[m.end() :]
                break
    if "number" not in out:
        months = [m for m in re.finditer(r"\b[A-Z][a-z]+\b", sentence) if m.group().lower() in MONTH_NAMES]
        if months:
            month_pool = {w for w in re.findall(r"\b[A-Z][a-z]+\b", document) if w.lower() in MONTH_NAMES}
            choices = sorted(w for w in month_pool if w != months[0].group())
            if choices:
                out["number"] = sentence[: months[0].start()] + rng.choice(choices) + sentence[months[0].end() :]
    # negation
    if not _NEGATED.search(sentence):
        aux = _AUX.search(sentence)
        past = _PAST.search(sentence)
        if aux:
            out["negation"] = sentence[: aux.end()] + " not" + sentence[aux.end() :]
        elif past:
            out["negation"] = sentence[: past.start()] + "never " + sentence[past.start() :]
    # subject / object exchange: two different names with a content word between them, not coordinated; a name
    # and the abbreviation the document defines for it ("Organization ... (OTS)") are one entity, not two
    defined = abbreviations(document)
    for a in ents:
        for b in ents:
            one_entity = aliased(a.text.lower(), b.text.lower(), defined)
            if "exchange" in out or b.start <= a.end or not _disjoint(a, b) or one_entity:
                continue
            between = sentence[a.end : b.start]
            content = [w for w in re.findall(r"[A-Za-z]+", between) if w.lower() not in STOPWORDS]
            before = sentence[max(0, a.start - 9) : a.start].lower()
            if not content or "between" in before or re.search(r"\b(and|or|&)\s*$", between):
                continue
            out["exchange"] = sentence[: a.start] + b.text + between + a.text + sentence[b.end :]
    return out


def seed_dir() -> Path:
    return shared_dir() / "seed"
