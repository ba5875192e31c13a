"""Exact inner-product search: top-k candidates and gold ranks, in chunks.

Scores are held for one chunk of queries at a time (about SCORE_BUDGET
bytes, at least one row), so memory stays bounded whatever the pool size;
each chunk is one jitted call, padded to one shape so it compiles once.
"""

from __future__ import annotations

import functools
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from kwls_jax.retrieval import ranking


class SearchResult(NamedTuple):
  scores: np.ndarray  # [Q, k], best first
  ids: np.ndarray  # [Q, k] candidate ids
  ranks: np.ndarray | None  # [Q] best gold rank, when gold was given


@functools.partial(jax.jit, static_argnames="k")
def _chunk(queries, candidates, k, gold_ids=None, gold_mask=None):
  scores = jnp.dot(queries, candidates.T, precision=jax.lax.Precision.HIGHEST)
  top_scores, top_ids = jax.lax.top_k(scores, k)
  ranks = None
  if gold_ids is not None:
    ranks = ranking.ranks_of_scores(scores, gold_ids, gold_mask)
  return top_scores, top_ids, ranks


def chunk_size(num_queries: int, num_candidates: int,
               budget: int = ranking.SCORE_BUDGET) -> int:
  """Queries per chunk: [chunk, M] float32 scores fit in `budget` bytes."""
  return max(1, min(num_queries, budget // (4 * max(num_candidates, 1))))


def _pad(x: np.ndarray, rows: int) -> np.ndarray:
  return x if len(x) == rows else np.concatenate(
      [x, np.zeros((rows - len(x),) + x.shape[1:], x.dtype)])


def search(queries, candidates, k: int = 100,
           gold: Sequence[Sequence[int]] | None = None,
           chunk: int | None = None) -> SearchResult:
  """Top-k candidates by inner product for queries [Q, D] in candidates [M, D].

  With `gold` (candidate ids per query) also each query's gold rank, ties
  averaged as in `ranking.gold_ranks`.
  """
  queries = np.asarray(queries, np.float32)
  candidates = jnp.asarray(candidates, jnp.float32)
  num_q, num_c = len(queries), candidates.shape[0]
  k = min(k, num_c)
  chunk = chunk or chunk_size(num_q, num_c)
  gold_ids = gold_mask = None
  if gold is not None:
    gold_ids, gold_mask = ranking.pad_gold(gold)
    if gold_ids.max() >= num_c:
      raise ValueError(f"gold id {gold_ids.max()} >= {num_c} candidates")
  outs = []
  for i in range(0, num_q, chunk):
    part = lambda x: None if x is None else _pad(x[i:i + chunk], chunk)
    outs.append((min(chunk, num_q - i),
                 _chunk(part(queries), candidates, k, part(gold_ids),
                        part(gold_mask))))
  cat = lambda j: np.concatenate([np.asarray(o[j])[:n] for n, o in outs])
  if not outs:
    return SearchResult(np.zeros((0, k), np.float32), np.zeros((0, k), np.int32),
                        None if gold is None else np.zeros(0))
  ranks = None if gold is None else cat(2).astype(np.float64)
  return SearchResult(cat(0), cat(1), ranks)
