"""Cogs: asking (mentions, threads, /ask, forums, context menu), admin (/status /stats /reindex), feedback."""
