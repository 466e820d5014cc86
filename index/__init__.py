"""Footnote's write path: files -> documents -> chunks -> vectors (Chroma) + BM25.

Also home of what both paths share: settings, errors, the embedder and the store.
"""
