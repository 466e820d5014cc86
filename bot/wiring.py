"""The read path's composition root: which answer strategy, verifier and rewriter a configuration gets.

Every engine answers analyst questions (comparisons, conflicting sources, latest / timeline, who says what)
with structure: the configured strategy (extractive or LLM) is wrapped in the `AnalystRouter`, which hands
every other question to it untouched.

`bot.cli.build_engine` (the CLI and the Discord bot) and the tests wire the engine through `assemble_engine`,
so a test exercises exactly the objects the product runs, with fakes injected only for the outside world
(retriever, LLM server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_index.core.base.embeddings.base import BaseEmbedding

from bot.answer import Retriever
from bot.answering.analyst import wrap_analyst
from bot.answering.base import AnswerStrategy
from bot.answering.extractive import ExtractiveAnswerer, ExtractiveStrategy
from bot.conversation import ConversationStore
from bot.engine import Engine
from bot.followups import FollowupRewriter
from bot.text.embedder import SentenceEmbedder
from index.errors import ConfigError
from index.settings import Settings

if TYPE_CHECKING:
    from bot.llm import LLMClient


def build_strategy(
    settings: Settings,
    embed: SentenceEmbedder,
    llm: LLMClient | None,
    *,
    extractive: ExtractiveAnswerer | None = None,
) -> AnswerStrategy:
    """Extractive unless an LLM is configured and the mode allows it; `llm` mode without one is an error."""
    if settings.answer_mode == "llm" and llm is None:
        raise ConfigError("FOOTNOTE_ANSWER_MODE=llm needs an LLM: set OPENAI_API_KEY or OPENAI_BASE_URL.")
    offline = ExtractiveStrategy(extractive or ExtractiveAnswerer(embed))
    if llm is None or settings.answer_mode == "extractive":
        return offline
    from bot.answering.judge import ClaimJudge
    from bot.answering.llm import LLMStrategy
    from bot.answering.verify import CitationVerifier

    verifier = CitationVerifier(embed)
    judge = ClaimJudge(llm, verifier, embed) if settings.verify_judge else None
    return LLMStrategy(llm, verifier, offline, context_tokens=settings.context_tokens, judge=judge)


def assemble_engine(
    settings: Settings,
    retriever: Retriever,
    embedder: BaseEmbedding | SentenceEmbedder,
    llm: LLMClient | None = None,
    history: ConversationStore | None = None,
    *,
    extractive: ExtractiveAnswerer | None = None,
) -> Engine:
    embed = (
        embedder if isinstance(embedder, SentenceEmbedder) else SentenceEmbedder(embedder, cache_dir=settings.data_dir)
    )
    strategy = wrap_analyst(build_strategy(settings, embed, llm, extractive=extractive), embed)
    rewriter = FollowupRewriter(
        llm if strategy.mode == "llm" else None,
        history_tokens=settings.history_tokens,
        max_chars=settings.max_question_chars,
    )
    return Engine(settings, retriever, strategy, rewriter=rewriter, history=history)
