"""Training batches of a dual encoder: queries, their batch of candidates and
the hard targets of the softmax over those candidates.

A batch of B queries is scored against C = B + negatives distinct
candidates: each query's gold (one of its gold sentences, drawn at random
when it has several), each counted once, then random candidates of the
training pool up to C. A query's hard target l_i spreads its mass evenly over
the batch's candidates that are among its gold sentences: one-hot in the
usual case, and when two queries share a gold sentence both rows point at
its one column. Batches are functions of (seed, epoch, position) alone.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def batch_rng(seed: int, epoch: int, position: int) -> np.random.Generator:
  """The generator of one batch's gold draws and negatives."""
  return np.random.default_rng([seed, 11, epoch, position])


def pick_gold(gold: Sequence[Sequence[int]], rng: np.random.Generator
              ) -> np.ndarray:
  """One gold candidate per query, uniformly among its gold."""
  return np.asarray([g[rng.integers(len(g))] for g in gold], np.int64)


def candidate_set(picked: np.ndarray, pool: np.ndarray, size: int,
                  rng: np.random.Generator) -> np.ndarray:
  """`size` distinct candidate ids: `picked` in first-seen order, then pool
  candidates in random order."""
  first = np.asarray(list(dict.fromkeys(picked.tolist())), np.int64)
  need = size - len(first)
  if need < 0:
    raise ValueError(f"{len(first)} gold candidates exceed the batch's {size}")
  shuffled = rng.permutation(pool)
  extra = shuffled[~np.isin(shuffled, first)][:need]
  if len(extra) < need:
    raise ValueError(f"the training pool holds {len(pool)} candidates, a "
                     f"batch needs {size}")
  return np.concatenate([first, extra])


def hard_targets(gold: Sequence[Sequence[int]],
                 candidates: np.ndarray) -> np.ndarray:
  """l [B, C]: each row uniform over its gold among `candidates` (float32)."""
  hits = np.stack([np.isin(candidates, g) for g in gold]).astype(np.float32)
  counts = hits.sum(axis=1, keepdims=True)
  if np.any(counts == 0):
    raise ValueError("a query has none of its gold among the candidates")
  return hits / counts


def train_batch(rows: np.ndarray, gold: Sequence[Sequence[int]],
                pool: np.ndarray, batch_size: int, negatives: int,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
  """The batch of training query `rows` (fewer than batch_size: padded).

  `gold[i]` are the gold candidate ids of training query i. Returns
  query_rows [B] (padding: row 0), candidates [C], labels [B, C] (padding
  rows: their first candidate) and mask [B] (0 on padding rows).
  """
  real = len(rows)
  picked = pick_gold([gold[r] for r in rows], rng)
  cands = candidate_set(picked, pool, batch_size + negatives, rng)
  labels = np.zeros((batch_size, len(cands)), np.float32)
  labels[:real] = hard_targets([gold[r] for r in rows], cands)
  labels[real:, 0] = 1.0
  mask = np.zeros(batch_size, np.float32)
  mask[:real] = 1.0
  padded = np.concatenate([rows, np.zeros(batch_size - real, rows.dtype)])
  return {"query_rows": padded.astype(np.int64), "candidates": cands,
          "labels": labels, "mask": mask}
