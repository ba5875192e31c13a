"""Train/dev/test queries of one fold of a ReQA benchmark built from one split.

With SQuAD dev alone, the articles fall in `folds` folds (reqa.article_folds).
Test: the queries of fold `fold`'s articles, ranked against the whole pool.
The other folds' articles are shuffled (seeded) and a `dev_share` of them
give the dev queries, so that dev, like test, asks about unseen articles.
Training sees only the remaining articles: their queries, and their
sentences as candidates (the training pool).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from kwls_jax.retrieval import reqa


@dataclasses.dataclass
class QuerySplits:
  """Query rows (indices into the benchmark's queries) and the training pool."""

  train: np.ndarray
  dev: np.ndarray
  test: np.ndarray
  train_pool: np.ndarray  # candidate ids of the training articles


def dev_articles(articles: Sequence[str], share: float,
                 seed: int) -> set[str]:
  """round(share * n) of the articles (at least 1 when n >= 2), seeded."""
  articles = list(dict.fromkeys(articles))
  n = len(articles)
  count = min(max(int(round(share * n)), 1 if n >= 2 else 0), max(n - 1, 0))
  order = np.random.default_rng([seed, 5]).permutation(n)
  return {articles[i] for i in order[:count]}


def query_splits(candidates: Sequence[dict], queries: Sequence[dict],
                 fold: int, folds: int = 4, dev_share: float = 0.25,
                 seed: int = 0) -> QuerySplits:
  """The QuerySplits of `fold` (see the module docstring)."""
  article_fold = reqa.article_folds([c["article"] for c in candidates], folds)
  rows = [dict(q, row=i) for i, q in enumerate(queries)]
  rest, test = reqa.split_queries(rows, article_fold, fold)
  dev_set = dev_articles([q["article"] for q in rest], dev_share, seed)
  train_articles = {q["article"] for q in rest} - dev_set
  pick = lambda qs: np.asarray([q["row"] for q in qs], np.int64)
  return QuerySplits(
      train=pick([q for q in rest if q["article"] in train_articles]),
      dev=pick([q for q in rest if q["article"] in dev_set]),
      test=pick(test),
      train_pool=np.asarray([c["id"] for c in candidates
                             if c["article"] in train_articles], np.int64))
