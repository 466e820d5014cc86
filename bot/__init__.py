"""Footnote's read path: question -> retrieval -> cited, verified answer; plus its frontends (CLI, Discord)."""
