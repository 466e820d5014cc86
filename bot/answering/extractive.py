"""The offline answerer: picks the sentences of the retrieved passages that best answer the question and
quotes them verbatim, each with its footnote. No LLM, so nothing to hallucinate: the only failure mode is
choosing the wrong sentence, which the calibrated refusal threshold turns into an honest refusal.

A candidate (a sentence, a sentence with the one it leans on, or a list with its lead-in) is scored by a
logistic model over cheap features (bot/answering/extractive_config.py: FEATURES): MiniLM cosine to the
question, idf-weighted term overlap, retrieval rank, whether it holds the kind of token the question asks for
(a number next to what is counted, a date, a person's name next to the role asked about), position and length.
Its weights are fitted by `python -m bench.fit_extractive`; its output is P(candidate answers the question).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from bot.answer import Answer, AnswerEvent, FinalAnswer, Passage
from bot.answering.base import AnswerRequest, make_citation, refusal
from bot.answering.extractive_compose import (
    display_text,
    is_summary_request,
    list_end,
    readable_candidate,
    sentence_keys,
    without_bullet,
)
from bot.answering.extractive_config import DEFAULT_CONFIG, FEATURES, ExtractiveConfig
from bot.answering.extractive_refusal import (
    Scored,
    date_of_another_party,
    figure_of_an_unnamed_party,
    group_present,
    month_of_another_time,
    name_groups,
    question_features,
    role_of_another_party,
)
from bot.answering.extractive_summary import summarize
from bot.answering.extractive_types import holds_answer_type, states_the_attribute
from bot.text.embedder import SentenceEmbedder
from bot.text.injection import looks_like_injection
from bot.text.markers import attach_markers
from bot.text.questions import (
    QuestionShape,
    addresses_the_assistant,
    question_shape,
    split_question,
    without_context,
)
from bot.text.sentences import Span, split_sentences
from bot.text.terms import KINSHIP, ROLE_TITLES, content_terms, lower_vocabulary, term_in, truecase
from index.chunking import chunk_position

# A sentence that leans on the one before ("They answered that it was business.") is also scored together
# with it, as one contiguous span; a sentence ending in ":" is scored with the list that follows it.
_CONTINUATION = re.compile(r"[\"“‘']|(?:he|she|it|they|this|that|these|those|his|her|its|their|such)\b", re.I)
# "Who is / was <role> ...?", "What is the name of <role>?" ask for one holder; a passive does not ("Who were
# the drones used against?").
_WHO_IS = re.compile(
    r"\W*(?:and |but |so )?(?:who (?:is|was)|what (?:is|was) the name of)\b"
    r"(?![^?]*\b(?-i:[a-z]+ed|known|seen|given|taken|made|built|sold|held|led|sent|shown|told|written)\b)",
    re.I,
)
_TOPICAL = ("cosine", "lexical", "log_words", "span_pair", "lead")  # what `relevance` looks at


@dataclass(frozen=True)
class _Candidate:
    rank: int
    span: Span  # what gets quoted
    views: tuple[str, ...]  # texts it is scored by (best one wins): the span, or just its lead sentence
    lead: bool = False  # first sentence of its passage
    multi: bool = False  # two or more sentences (a continuation pair, a list with its lead-in)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))

# "Which villages were ...?", "Which two regional organisations does ...?": the noun phrase between "which" and
# the auxiliary (or the verb right after it) ends in a plural.
# A noun ending in "-is"/"-as" ("analysis", "gas"; but "areas") counts only before a plural verb; "news", "series",
# "species" never.
_WHICH_PLURAL = re.compile(
    r"^\W*(?i:(?:and |but |so )?which) (?:[\w\-]+ ){0,2}(?!(?:news|series|species)\b)"
    r"(?:[a-z\-]*[a-z][^suia\W]s (?:did|do|does|were|are|was|is|have|has|had|will|would|could|can|might|[a-z]+ed)"
    r"|[a-z\-]*[a-z][ia]s (?:were|are|have|do))\b"
)


class ExtractiveAnswerer:
    def __init__(self, embedder: BaseEmbedding | SentenceEmbedder, config: ExtractiveConfig | None = None) -> None:
        self.embed = embedder if isinstance(embedder, SentenceEmbedder) else SentenceEmbedder(embedder)
        self.config = config or DEFAULT_CONFIG
        self._w = np.asarray(self.config.weight_vector(), dtype=np.float64)
        self._topical = np.asarray([1.0 if f in _TOPICAL else 0.0 for f in FEATURES])
        self._rw = np.asarray(self.config.refusal_vector(), dtype=np.float64)

    @property
    def min_relevance(self) -> float:
        """The refusal threshold, on the scale of `Scored.score` and `relevance`."""
        return self.config.refuse_below

    # --- scoring ---------------------------------------------------------------------------------------

    def features(self, question: str, passages: list[Passage]) -> tuple[list[_Candidate], np.ndarray]:
        """The candidates of the first `max_passages` passages and their feature rows (columns: FEATURES)."""
        cands = self._candidates(passages)
        if not cands:
            return [], np.zeros((0, len(FEATURES)))
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
        last = max(1, min(len(passages), self.config.max_passages) - 1)
        rows = np.zeros((len(cands), len(FEATURES)))
        for i, (c, ok) in enumerate(zip(cands, typed, strict=True)):
            semantic = max(cosine[v] for v in c.views)
            lexical = max(sum(w for t, w in idf.items() if term_in(t, terms[v])) / total for v in c.views)
            rows[i] = (
                semantic,
                lexical,
                1 - c.rank / last,
                float(shape.kind is not None and ok),
                float(shape.kind is not None and not ok),
                float(c.lead),
                math.log1p(len(c.span.text.split())),
                float(c.multi),
            )
        return cands, rows

    def score(self, question: str, passages: list[Passage]) -> list[Scored]:
        """Every sentence (and continuation span) of the first `max_passages` passages, best first."""
        cands, rows = self.features(question, passages)
        return self._ranked(cands, rows, self._w)

    def candidates(self, question: str, passages: list[Passage]) -> list[Scored]:
        """`score`, except that a count or date question leads with the best candidate holding a number or
        date (tied to the party the question names) when one is within `typed_margin` of the best: "What death
        toll does Tajikistan give?" is answered by "... puts the number of people killed ... at 41", not refused
        over "The Tajik government published a separate death toll of its own" (closer in words, no figure)."""
        scored = self.score(question, passages)
        shape = question_shape(question)
        if not scored or not self._hard(shape, question):
            return scored
        near = [s for s in scored if s.logit >= scored[0].logit - self.config.typed_margin]
        pool = near[: self.config.max_sentences * 4]
        typed = self._typed(shape, question, [s.span.text for s in pool])
        fits = [
            ok and not (date_of_another_party if shape.kind == "date" else figure_of_an_unnamed_party)(
                question, passages[s.rank], s.span)
            for s, ok in zip(pool, typed, strict=True)
        ]
        if fits[0] or not any(fits):
            return scored
        first = pool[fits.index(True)]
        return [first, *(s for s in scored if s is not first)]

    def _ranked(self, cands: list[_Candidate], rows: np.ndarray, weights: np.ndarray) -> list[Scored]:
        """The candidates scored by the logistic model with `weights`, best first."""
        if not cands:
            return []
        logits = rows @ weights + self.config.bias
        probs = _sigmoid(logits)
        out = [
            Scored(c.rank, c.span, float(r[0]), float(r[1]), float(p), float(z))
            for c, r, p, z in zip(cands, rows, probs, logits, strict=True)
        ]
        out.sort(key=lambda s: -s.logit)
        return out

    def _candidates(self, passages: list[Passage]) -> list[_Candidate]:
        out: list[_Candidate] = []
        for rank, p in enumerate(passages[: self.config.max_passages]):
            # A question in a document is never its answer; planted instructions are never quoted.
            raw = [s for s in split_sentences(p.text) if not looks_like_injection(s.text) and s.text[-1] != "?"]
            spans = [without_bullet(s) for s in raw]
            for i, s in enumerate(spans):
                if s.text.endswith(":") and i + 1 < len(spans):
                    end = list_end(raw, i)
                    whole = Span(s.start, spans[end].end, p.text[s.start : spans[end].end])
                    out.append(_Candidate(rank, whole, (s.text, whole.text), lead=i == 0, multi=True))
                    continue
                out.append(_Candidate(rank, s, (s.text,), lead=i == 0))
                if i + 1 < len(spans) and _CONTINUATION.match(spans[i + 1].text):
                    # "... lead role. Its founding members are:" leans on this sentence AND keeps its list: a
                    # lead-in quoted without its items is a cut quote.
                    nxt = list_end(raw, i + 1) if spans[i + 1].text.endswith(":") and i + 2 < len(spans) else i + 1
                    pair = Span(s.start, spans[nxt].end, p.text[s.start : spans[nxt].end])
                    out.append(_Candidate(rank, pair, (pair.text,), lead=i == 0, multi=True))
        return out

    def _hard(self, shape: QuestionShape, question: str) -> bool:
        """Must the best sentence hold the asked-for token? A count, a sum, a date; and the names asked for by
        "Which <things> ...?" ("Which mosques were hit?" is not answered by "... schools and mosques came under
        fire"). Not "Which force ...?": "the border guard" answers it without a name."""
        return shape.kind in self.config.hard_types or (
            shape.kind == "name" and _WHICH_PLURAL.match(without_context(question)) is not None)

    def _typed(self, shape: QuestionShape, question: str, sentences: list[str]) -> list[bool]:
        """Does each sentence hold a token of the wanted kind, next to what the question asks about?"""
        return holds_answer_type(shape, question, sentences, self.embed, self.config.focus_similarity,
                                 self.config.counted_similarity)

    # --- question-level refusal -------------------------------------------------------------------------

    def question_features(self, question: str, passages: list[Passage], scored: list[Scored]) -> np.ndarray:
        """The refusal model's row for one question (bot/answering/extractive_refusal.py)."""
        return question_features(question, passages[: self.config.max_passages], scored)

    def answerable_probability(self, question: str, passages: list[Passage], scored: list[Scored]) -> float:
        """P(the passages answer the question), from the fitted question-level model."""
        if not scored:
            return 0.0
        z = float(self.question_features(question, passages, scored) @ self._rw + self.config.refusal_bias)
        return float(_sigmoid(np.asarray([z]))[0])

    def _answers(
        self, question: str, passages: list[Passage], scored: list[Scored]
    ) -> tuple[bool, float, str | None]:
        """Whether to answer this (part of a) question, the probability it was decided on, and the rule that
        refused it (if one did)."""
        rule = self.refusal_rule(question, scored[0], passages) if scored else None
        if not scored or rule:
            return False, 0.0, rule
        closest = max(s.score for s in scored[:2])  # `candidates` may have moved a lower one first
        if closest < self.config.refuse_below:  # no sentence is even close (off-topic questions)
            return False, closest, None
        if not self.config.refusal_weights:  # no question-level model: the best sentence's threshold decides
            return True, scored[0].score, None
        p = self.answerable_probability(question, passages, scored)
        return p >= self.config.answer_above, p, None

    # --- answering -------------------------------------------------------------------------------------

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        if addresses_the_assistant(question) or looks_like_injection(question):
            return refusal(question, passages, reason="the question is addressed to the assistant, not the documents")
        # A question typed in lower case gets its names' capitals from the passages: the name rules read them.
        question = truecase(question, [p.text for p in passages[: self.config.max_passages]])
        if is_summary_request(question):
            return self._summary(question, passages)
        parts = split_question(question)
        budget = max(1, self.config.max_sentences // len(parts))
        chosen: list[Scored] = []
        bests: list[float] = []
        decided: list[float] = []
        rules: list[str] = []  # the rules that refused parts (trace only: the reader sees the one refusal text)
        for part in parts:
            scored = self.candidates(part, passages)
            bests.append(scored[0].score if scored else 0.0)
            ok, p, rule = self._answers(part, passages, scored)
            decided.append(p)
            rules += [rule] if rule else []
            if ok:
                chosen.extend(self._select(scored, passages, chosen)[:budget])
        trace: dict[str, object] = {
            "parts": parts,
            "best_scores": [round(b, 4) for b in bests],
            "answerable_p": [round(p, 4) for p in decided],
            "min_relevance": self.config.refuse_below,
        }
        if not chosen:
            out = refusal(question, passages, reason=rules[0] if rules else "no sentence is relevant enough")
            out.trace.update(trace)
            return out
        return self.compose(question, passages, chosen, trace)

    def _names_all(self, question: str, text: str) -> bool:
        groups = name_groups(without_context(question))
        return bool(groups) and all(group_present(g, lower_vocabulary(text), text) for g in groups)

    def refusal_rule(self, question: str, best: Scored, passages: list[Passage]) -> str | None:
        """Why the best sentence cannot answer, however on-topic it is (None: no rule refuses). A "how many" /
        "how much" / "when" question whose best sentence holds no number or date, or a figure nothing ties to the
        party the question names; "Who is X's <role>?" when the best sentence names that role only as another
        party's ("Tajik Defence Minister ..."); a month or a measure the sentence does not state."""
        shape = question_shape(question)
        asks_who = re.match(r"\W*(?:and |but |so )?who\b", question, re.I) is not None  # not "the name of X"
        if asks_who and role_of_another_party(question, shape.focus, best.span.text):
            return "the role is another party's"
        # "Who is Turkey's ambassador to Tajikistan?" asks for the person holding a role: a best sentence with
        # no name next to that role ("... shared by Turkey's embassy in Tajikistan") does not name them.
        role = [f for f in shape.focus if f in ROLE_TITLES or f in KINSHIP]  # an office or a family tie
        holder = shape.kind == "person" and bool(role) and _WHO_IS.match(question) is not None
        # The office itself, by stem, not a word merely close to it: "President Recep Tayyip Erdogan" names no
        # secretary-general (MiniLM puts the two offices within `focus_similarity`).
        if holder and not holds_answer_type(shape, question, [best.span.text], self.embed, 1.01)[0]:
            return "no one is named in the role"
        if month_of_another_time(question, passages[best.rank], best.span):
            return "the passages speak of another month"
        if states_the_attribute(question, best.span.text, self.embed, self.config.focus_similarity) is False:
            return "the measure asked for is not stated"
        if not self._hard(shape, question):
            return None
        if not self._typed(shape, question, [best.span.text])[0]:
            return f"no {shape.kind} next to what is asked about"
        if shape.kind != "date" and figure_of_an_unnamed_party(question, passages[best.rank], best.span):
            return "the figure is another party's"
        if shape.kind == "date" and date_of_another_party(question, passages[best.rank], best.span):
            return "the date is another party's"
        return None

    def compose(
        self, question: str, passages: list[Passage], chosen: list[Scored], trace: dict[str, object]
    ) -> Answer:
        # Reading order: groups by passage (best group first), textual order inside a passage.
        group = {c.rank: max(x.score for x in chosen if x.rank == c.rank) for c in chosen}
        # The chosen answer of a one-part question leads, also when `candidates` preferred it to a closer
        # sentence without the asked-for figure.
        parts = trace.get("parts")
        lead = chosen[0].rank if isinstance(parts, list) and len(parts) == 1 else -1
        # ... except that the answer opens with a passage whose quote names what the question names: "How many
        # people did Tajikistan say were killed?" leads with the Tajik count, not "By the Kyrgyz count: 59".
        named = {c.rank for c in chosen if self._names_all(question, c.span.text)}
        chosen = sorted(
            chosen, key=lambda c: (c.rank not in named, c.rank != lead, -group[c.rank], c.rank, c.span.start)
        )
        if trace.get("summary_of_the_whole"):  # the documents' own order: each one from its opening on
            docs = list(dict.fromkeys(passages[c.rank].doc_id for c in chosen))
            chosen = sorted(chosen, key=lambda c: (docs.index(passages[c.rank].doc_id),
                                                   chunk_position(passages[c.rank].chunk_id) or 0, c.span.start))
        citations = [make_citation(i + 1, passages[c.rank], c.span.text) for i, c in enumerate(chosen)]
        text = " ".join(attach_markers(display_text(c.span), [i + 1]) for i, c in enumerate(chosen))
        trace["selected"] = [{"chunk_id": passages[c.rank].chunk_id, "score": round(c.score, 4)} for c in chosen]
        return Answer(question=question, text=text, citations=citations, mode="extractive", trace=trace)

    def _select(self, scored: list[Scored], passages: list[Passage], already: list[Scored]) -> list[Scored]:
        """The best readable candidate, then others close to it; a sentence is never quoted twice (chunks
        overlap) and near-duplicates are skipped."""
        cfg = self.config
        best = scored[0].logit
        # The first candidate is the answer `candidates` chose: always in the pool.
        near = [s for s in scored[1:] if s.logit >= best - cfg.select_margin and s.score >= cfg.select_floor]
        pool = [*scored[:1], *near]
        pool = pool[: cfg.max_sentences * 4]
        seen: set[str] = set().union(*(sentence_keys(k.span.text) for k in already)) if already else set()
        picked: list[Scored] = []
        vecs: list[np.ndarray] = [self.embed([k.span.text])[0] for k in already]
        for s in pool:
            if len(picked) >= cfg.max_sentences:
                break
            readable = readable_candidate(s, passages)
            if readable is None:
                continue
            keys = sentence_keys(readable.span.text)
            if keys & seen:
                continue
            v = self.embed([readable.span.text])[0]
            if any(float(v @ u) >= cfg.duplicate_similarity for u in vecs):
                continue
            picked.append(readable)
            seen |= keys
            vecs.append(v)
        return picked

    def _summary(self, question: str, passages: list[Passage]) -> Answer:
        return summarize(self, question, passages)

    def relevance(self, question: str, passages: list[Passage]) -> float:
        """THE relevance of passages to a question: P(answers) of their best sentence from its topical features
        only (cosine, term overlap, length, position; no rank or answer type), over the question's parts. The
        LLM path's gate uses it; the extractive refusal additionally weighs the answer type (see `answer`)."""
        best = 0.0
        for part in split_question(question):
            ranked = self.topical(part, passages)
            if ranked:
                best = max(best, ranked[0].score)
        return best

    def topical(self, question: str, passages: list[Passage]) -> list[Scored]:
        """Every candidate scored by `relevance`'s function (its `score`), best first: the analyst strategies
        rank sentences on this one relevance scale."""
        cands, rows = self.features(question, passages)
        return self._ranked(cands, rows, self._w * self._topical)


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

