"""Ranks of the gold candidates and the ReQA metrics (Recall@k, MRR).

A query's rank is the best rank among its gold candidates, ties counted as
their average rank, `scipy.stats.rankdata(-scores, "average")`: a gold score
s ranks #(scores > s) + (#(scores == s) + 1) / 2.
"""

from __future__ import annotations

from typing import Sequence

import jax.numpy as jnp
import numpy as np

SCORE_BUDGET = 1 << 27  # bytes of scores held at once


def pad_gold(gold: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
  """Gold ids as [Q, G] int32 (padded with 0) and the mask of real ones."""
  if any(len(g) == 0 for g in gold):
    raise ValueError("every query needs at least one gold candidate")
  width = max((len(g) for g in gold), default=1)
  ids = np.zeros((len(gold), width), np.int32)
  mask = np.zeros((len(gold), width), bool)
  for i, g in enumerate(gold):
    ids[i, :len(g)] = g
    mask[i, :len(g)] = True
  return ids, mask


def ranks_of_scores(scores, gold_ids, gold_mask, xp=jnp):
  """Best average rank [Q] of the gold among scores [Q, M]; xp: jnp or np."""
  gold = xp.take_along_axis(scores, gold_ids, axis=1)
  best = xp.max(xp.where(gold_mask, gold, -xp.inf), axis=1, keepdims=True)
  above = xp.sum(scores > best, axis=1)
  tied = xp.sum(scores == best, axis=1)
  return above + (tied + 1) / 2


def gold_ranks(scores, gold: Sequence[Sequence[int]]) -> np.ndarray:
  """Float ranks [Q] of the best gold candidate per row of scores [Q, M].

  NumPy, so the scores keep their dtype (and their ties) exactly.
  """
  scores = np.asarray(scores)
  if scores.ndim != 2 or scores.shape[0] != len(gold):
    raise ValueError(f"scores {scores.shape} do not match {len(gold)} queries")
  ids, mask = pad_gold(gold)
  if ids.size and (ids.max() >= scores.shape[1]):
    raise ValueError(f"gold id {ids.max()} >= {scores.shape[1]} candidates")
  step = max(1, SCORE_BUDGET // (4 * max(scores.shape[1], 1)))
  out = [ranks_of_scores(scores[i:i + step], ids[i:i + step],
                         mask[i:i + step], xp=np)
         for i in range(0, len(gold), step)]
  return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def recall_at_k(ranks, ks: Sequence[int] = (1, 10, 50, 100)) -> dict[str, float]:
  """{"R@k": share of ranks <= k, in percent} for each k."""
  ranks = np.asarray(ranks, np.float64)
  return {f"R@{k}": float(100 * np.mean(ranks <= k)) for k in ks}


def mrr(ranks) -> float:
  """Mean reciprocal rank, in percent."""
  return float(100 * np.mean(1 / np.asarray(ranks, np.float64)))


def metrics(ranks, ks: Sequence[int] = (1, 10, 50, 100)) -> dict[str, float]:
  """Recall@k and MRR of ranks, in percent."""
  return {**recall_at_k(ranks, ks), "MRR": mrr(ranks)}
