"""Analyst answers: comparison tables, conflicting sources, dated answers (see `router.AnalystRouter`)."""

from bot.answering.analyst.router import AnalystRouter, wrap_analyst

__all__ = ["AnalystRouter", "wrap_analyst"]
