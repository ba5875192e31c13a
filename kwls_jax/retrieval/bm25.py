"""BM25 ranking of all candidates (Lucene's BM25, via bm25s), ReQA metrics."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from kwls_jax.retrieval import ranking

_WORD = re.compile(r"\w+")
CHUNK = 512  # queries scored at once


def words(text: str) -> list[str]:
  """Lowercased `\\w+` words."""
  return _WORD.findall(text.lower())


def index(texts: Sequence[str], k1: float = 0.9, b: float = 0.4):
  """A bm25s index of `texts` with Lucene's BM25 (idf log(1 + (N-df+.5)/(df+.5)))."""
  import bm25s  # pylint: disable=g-import-not-at-top
  retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
  retriever.index([words(t) for t in texts], show_progress=False)
  return retriever


def scores(retriever, questions: Sequence[str]) -> np.ndarray:
  """BM25 scores [len(questions), M]; a repeated query word counts each time."""
  return np.stack([
      retriever.get_scores_from_ids(retriever.get_tokens_ids(words(q)))
      for q in questions])


def gold_ranks(retriever, questions: Sequence[str],
               gold: Sequence[Sequence[int]]) -> np.ndarray:
  """Best gold rank [Q] of each question among all candidates."""
  return np.concatenate([
      ranking.gold_ranks(scores(retriever, questions[i:i + CHUNK]),
                         gold[i:i + CHUNK])
      for i in range(0, len(questions), CHUNK)] or [np.zeros(0)])
