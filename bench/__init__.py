"""Evaluation harness: datasets, metrics and baselines for retrieval and answer quality."""
