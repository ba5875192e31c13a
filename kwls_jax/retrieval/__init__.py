"""Retrieval stage: ReQA from SQuAD, exact search, ranks, BM25, candidate soft labels."""

from kwls_jax.retrieval.ranking import gold_ranks, metrics, mrr, recall_at_k
from kwls_jax.retrieval.reqa import Benchmark, article_folds, build, split_queries

__all__ = ["Benchmark", "article_folds", "build", "gold_ranks", "metrics", "mrr",
           "recall_at_k", "split_queries"]
