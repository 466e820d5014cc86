"""Extractive summaries: "Summarize ...", "Give me an overview of ...", "What happened in April?" get a few
cited sentences chosen by MMR, not a refusal; a summary of the whole reads its documents from their openings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.answer import Answer, Passage
from bot.answering.base import refusal
from bot.answering.extractive_compose import (
    document_lead,
    editorial_note,
    heading,
    is_generic_topic,
    list_fragment,
    mmr,
    openings,
    openings_first,
    readable_candidate,
    sentence_keys,
    summary_topic,
)
from bot.answering.extractive_refusal import Scored, month_of_another_time
from bot.text.sentences import Span

if TYPE_CHECKING:
    from bot.answering.extractive import ExtractiveAnswerer


def summarize(answerer: ExtractiveAnswerer, question: str, passages: list[Passage]) -> Answer:
    """A short extractive summary: MMR over the best single sentences of several passages."""
    cfg = answerer.config
    topic = summary_topic(question)
    generic = is_generic_topic(topic, question)
    first = openings(passages) if generic else set()
    if generic:
        passages = openings_first(passages, first)
    scored = [s for s in answerer.score(topic, passages) if "\n" not in s.span.text]
    trace: dict[str, object] = {"summary_topic": topic, "best_scores": [round(scored[0].score, 4)] if scored
                                else [], "min_relevance": cfg.refuse_below}
    readable: list[Scored] = []
    seen: set[str] = set()
    # A summary of the whole reads every sentence (its documents' openings may score low on "the article").
    for s in scored if generic else scored[: cfg.summary_sentences * 6]:
        r = readable_candidate(s, passages)
        if r is None or (keys := sentence_keys(r.span.text)) & seen or _left_out(question, passages[r.rank], r.span):
            continue
        readable.append(r)
        seen |= keys
    # A summary is refused only when nothing is on topic (its "question" rarely has an answer type); a summary
    # of the documents as a whole (`generic`) has no topic to be off: it takes the sentences closest to what
    # the passages say overall (their centroid).
    if not readable or (not generic and max(r.semantic for r in readable) < cfg.summary_min_cosine):
        out = refusal(question, passages, reason="nothing on this topic to summarise")
        out.trace.update(trace)
        return out
    vecs = answerer.embed([r.span.text for r in readable])
    relevance = (vecs @ vecs.mean(axis=0)).tolist() if generic else [r.score for r in readable]
    if generic:  # a summary of the whole opens with what its documents open with
        relevance = [v + cfg.summary_lead_bonus * document_lead(passages[r.rank], r.span, first)
                     for v, r in zip(relevance, readable, strict=True)]
    picks = mmr(relevance, vecs, cfg.summary_sentences, cfg.summary_diversity)
    chosen = [readable[i] for i in picks]
    trace.update(summary=True, summary_of_the_whole=generic)
    return answerer.compose(question, passages, chosen, trace)


def _left_out(question: str, passage: Passage, span: Span) -> bool:
    """What a summary never quotes: an editor's note ("*Sample document ...*"), a heading, a list item that is no
    sentence of its own, a sentence about a month other than the one asked about ("What happened in April?")."""
    text = passage.text
    return (editorial_note(text, span) or heading(text, span) or list_fragment(text, span)
            or month_of_another_time(question, passage, span))
