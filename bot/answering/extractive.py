"""The offline answerer: picks the sentences of the retrieved passages that best answer the question and
quotes them verbatim, each with its footnote. No LLM, so nothing to hallucinate: the only failure mode is
choosing the wrong sentence, which the relevance threshold turns into an honest refusal.

Score of a sentence = semantic_weight * cosine(question, sentence)
                    + lexical_weight * idf-weighted share of the question's content terms it contains
                    + rank_bonus (earlier retrieved passage)
                    + type_bonus / - type penalty: does it hold the kind of token the question asks for (a
                      number next to what is counted, a date, a person's name next to the role asked about)?
Thresholds were measured on tests/data/seed_qa.jsonl and tests/data/corpus_qa.jsonl (see the report).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from llama_index.core.base.embeddings.base import BaseEmbedding

from bot.answer import Answer, AnswerEvent, FinalAnswer, Passage
from bot.answering.base import AnswerRequest, make_citation, refusal
from bot.text.embedder import SentenceEmbedder
from bot.text.injection import looks_like_injection
from bot.text.markers import attach_markers
from bot.text.questions import (
    QuestionShape,
    has_date,
    has_reason,
    is_content,
    question_shape,
    split_question,
    typed_positions,
)
from bot.text.sentences import Span, split_sentences
from bot.text.terms import content_terms, proper_vocabulary, same_text, stem, term_in

# A sentence that leans on the one before ("They answered that it was business.") is also scored together
# with it, as one contiguous span; a sentence ending in ":" is scored with the list that follows it.
_CONTINUATION = re.compile(r"[\"“‘']|(?:he|she|it|they|this|that|these|those|his|her|its|their|such)\b", re.I)
_LIST_ITEM = re.compile(r"(?:[-*•–]|\d+[.)])\s")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*[A-Za-z0-9]|[A-Za-z0-9]")

# How much a sentence loses when it lacks the token its question asks for: a sentence without a number
# cannot say "how many"; a reason is often given without "because".
TYPE_PENALTIES = {"number": 0.4, "money": 0.4, "date": 0.3, "person": 0.25, "name": 0.2, "reason": 0.1}


@dataclass(frozen=True)
class Scored:
    rank: int  # index of the passage in retrieval order
    span: Span
    semantic: float
    lexical: float
    score: float


@dataclass(frozen=True)
class _Candidate:
    rank: int
    span: Span  # what gets quoted
    views: tuple[str, ...]  # texts it is scored by (best one wins): the span, or just its lead sentence


class ExtractiveAnswerer:
    def __init__(
        self,
        embedder: BaseEmbedding | SentenceEmbedder,
        *,
        min_relevance: float = 0.44,
        select_threshold: float = 0.35,
        margin: float = 0.2,
        max_sentences: int = 4,
        max_passages: int = 8,
        semantic_weight: float = 0.7,
        lexical_weight: float = 0.3,
        rank_bonus: float = 0.04,
        type_bonus: float = 0.06,
        type_penalties: dict[str, float] | None = None,
        focus_similarity: float = 0.6,
        duplicate_similarity: float = 0.92,
    ) -> None:
        self.embed = embedder if isinstance(embedder, SentenceEmbedder) else SentenceEmbedder(embedder)
        self.min_relevance = min_relevance  # below this, the best sentence is not an answer: refuse
        self.select_threshold = select_threshold  # further sentences must reach this ...
        self.margin = margin  # ... and be within `margin` of the best one
        self.max_sentences = max_sentences
        self.max_passages = max_passages
        self.semantic_weight = semantic_weight
        self.lexical_weight = lexical_weight
        self.rank_bonus = rank_bonus
        self.type_bonus = type_bonus
        self.type_penalties = {**TYPE_PENALTIES, **(type_penalties or {})}
        self.focus_similarity = focus_similarity  # word cosine for "academic" ~ "scholar"
        self.duplicate_similarity = duplicate_similarity

    # --- scoring ---------------------------------------------------------------------------------------

    def score(self, question: str, passages: list[Passage]) -> list[Scored]:
        """Every sentence (and continuation span) of the first `max_passages` passages, best first."""
        cands = self._candidates(passages)
        if not cands:
            return []
        views = list(dict.fromkeys(v for c in cands for v in c.views))
        vectors = self.embed([question, *views])
        cosine = dict(zip(views, (vectors[1:] @ vectors[0]).tolist(), strict=True))
        terms = {v: content_terms(v) for v in views}
        q_terms = content_terms(question)
        # idf over the candidates: a term that every sentence has ("drones") says little.
        n = len(views)
        idf = {t: math.log(1 + n / (1 + sum(1 for v in views if term_in(t, terms[v])))) for t in q_terms}
        total = sum(idf.values()) or 1.0
        shape = question_shape(question)
        typed = self._typed(shape, question, [c.span.text for c in cands])
        last = max(1, min(len(passages), self.max_passages) - 1)
        out: list[Scored] = []
        for c, ok in zip(cands, typed, strict=True):
            semantic = max(cosine[v] for v in c.views)
            lexical = max(sum(w for t, w in idf.items() if term_in(t, terms[v])) / total for v in c.views)
            score = self.semantic_weight * semantic + self.lexical_weight * lexical
            score += self.rank_bonus * (1 - c.rank / last)
            if shape.kind is not None:
                score += self.type_bonus if ok else -self.type_penalties[shape.kind]
            out.append(Scored(c.rank, c.span, semantic, lexical, score))
        out.sort(key=lambda s: -s.score)
        return out

    def _candidates(self, passages: list[Passage]) -> list[_Candidate]:
        out: list[_Candidate] = []
        for rank, p in enumerate(passages[: self.max_passages]):
            # A question in a document is never its answer; planted instructions are never quoted.
            spans = [s for s in split_sentences(p.text) if not looks_like_injection(s.text) and s.text[-1] != "?"]
            for i, s in enumerate(spans):
                if s.text.endswith(":") and i + 1 < len(spans):
                    end = i + 1
                    while end + 1 < len(spans) and _LIST_ITEM.match(spans[end + 1].text) and end - i < 8:
                        end += 1
                    whole = Span(s.start, spans[end].end, p.text[s.start : spans[end].end])
                    out.append(_Candidate(rank, whole, (s.text, whole.text)))
                    continue
                out.append(_Candidate(rank, s, (s.text,)))
                if i + 1 < len(spans) and _CONTINUATION.match(spans[i + 1].text):
                    pair = Span(s.start, spans[i + 1].end, p.text[s.start : spans[i + 1].end])
                    out.append(_Candidate(rank, pair, (pair.text,)))
        return out

    def _typed(self, shape: QuestionShape, question: str, sentences: list[str]) -> list[bool]:
        """Does each sentence hold a token of the wanted kind, next to what the question asks about?"""
        if shape.kind is None:
            return [True] * len(sentences)
        if shape.kind == "date":
            return [has_date(s) for s in sentences]
        if shape.kind == "reason":
            return [has_reason(s) for s in sentences]
        tokens = [list(_TOKEN.finditer(s)) for s in sentences]
        sims: dict[tuple[str, str], float] = {}
        if shape.focus:
            vocab = sorted({m.group().lower() for ts in tokens for m in ts if is_content(m.group())})
            if vocab:
                vecs = self.embed(vocab + list(shape.focus))
                grid = vecs[: len(vocab)] @ vecs[len(vocab) :].T
                sims = {(w, f): float(grid[a, b]) for a, w in enumerate(vocab) for b, f in enumerate(shape.focus)}
        proper = proper_vocabulary(sentences)
        window = 3 if shape.kind in ("number", "money") else 4
        out: list[bool] = []
        for sentence, toks in zip(sentences, tokens, strict=True):
            hits = typed_positions(shape.kind, toks, sentence, question, proper)
            if not hits or not shape.focus:
                out.append(bool(hits))
                continue
            near = [j for j, m in enumerate(toks) if is_content(m.group()) and self._is_focus(m.group(), shape, sims)]
            out.append(any(abs(h - j) <= window or (bare and j < h) for h, bare in hits for j in near))
        return out

    def _is_focus(self, token: str, shape: QuestionShape, sims: dict[tuple[str, str], float]) -> bool:
        lt = token.lower()
        st = stem(lt)
        return any(
            st == stem(f) or term_in(st, {stem(f)}) or sims.get((lt, f), 0.0) >= self.focus_similarity
            for f in shape.focus
        )

    # --- answering -------------------------------------------------------------------------------------

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        parts = split_question(question)
        budget = max(1, self.max_sentences // len(parts))
        chosen: list[Scored] = []
        bests: list[float] = []
        for part in parts:
            scored = self.score(part, passages)
            bests.append(scored[0].score if scored else -1.0)
            if scored and scored[0].score >= self.min_relevance:
                fresh = [
                    c for c in self._select(scored) if not any(same_text(c.span.text, k.span.text) for k in chosen)
                ]
                chosen.extend(fresh[:budget])
        trace: dict[str, object] = {
            "parts": parts,
            "best_scores": [round(b, 4) for b in bests],
            "min_relevance": self.min_relevance,
        }
        if not chosen:
            out = refusal(question, passages, reason="no sentence is relevant enough")
            out.trace.update(trace)
            return out
        # Reading order: groups by passage (best group first), textual order inside a passage.
        group = {c.rank: max(x.score for x in chosen if x.rank == c.rank) for c in chosen}
        chosen.sort(key=lambda c: (-group[c.rank], c.rank, c.span.start))
        citations = [make_citation(i + 1, passages[c.rank], c.span.text) for i, c in enumerate(chosen)]
        text = " ".join(attach_markers(c.span.text, [i + 1]) for i, c in enumerate(chosen))
        trace["selected"] = [{"chunk_id": passages[c.rank].chunk_id, "score": round(c.score, 4)} for c in chosen]
        return Answer(question=question, text=text, citations=citations, mode="extractive", trace=trace)

    def _select(self, scored: list[Scored]) -> list[Scored]:
        """The best sentence, then others close to it, skipping near-duplicates (chunks overlap)."""
        floor = max(self.select_threshold, scored[0].score - self.margin)
        pool = [s for s in scored if s.score >= floor][: self.max_sentences * 4]
        vecs = self.embed([s.span.text for s in pool])
        chosen: list[int] = []
        for i, s in enumerate(pool):
            if len(chosen) >= self.max_sentences:
                break
            if any(same_text(s.span.text, pool[j].span.text) for j in chosen):
                continue
            if any(float(vecs[i] @ vecs[j]) >= self.duplicate_similarity for j in chosen):
                continue
            chosen.append(i)
        return [pool[i] for i in chosen]

    def relevance(self, question: str, passages: list[Passage]) -> float:
        """THE relevance of passages to a question: how on-topic their best sentence is (weighted cosine and
        term overlap, no rank or answer-type bonus), over the question's parts. The LLM path's gate uses it;
        the extractive refusal additionally needs the answer type (see `answer`)."""
        best = -1.0
        for part in split_question(question):
            for s in self.score(part, passages):
                best = max(best, self.semantic_weight * s.semantic + self.lexical_weight * s.lexical)
        return best


class ExtractiveStrategy:
    """Answers with verbatim sentences of the passages (no LLM): nothing to hallucinate, nothing to verify
    beyond choosing the right sentences."""

    mode = "extractive"
    streams = False

    def __init__(self, answerer: ExtractiveAnswerer) -> None:
        self.answerer = answerer

    def answer(self, request: AnswerRequest) -> Answer:
        return self.answerer.answer(request.question, request.passages)

    async def run(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        t = time.perf_counter()
        answer = await asyncio.to_thread(self.answer, request)
        request.timings["extractive"] = round((time.perf_counter() - t) * 1000, 1)
        yield FinalAnswer(answer)
