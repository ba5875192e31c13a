"""Training batches: distinct candidates, hard targets with shared gold, the
Eq. 9 loss over a hand-checkable batch."""

from __future__ import annotations

import math

from flax import nnx
import jax.numpy as jnp
import numpy as np
import pytest

from kwls_jax.retrieval import batches, dual_encoder
from kwls_jax.retrieval import steps as rsteps

POOL = np.arange(100, 120)


def test_candidate_set_puts_each_gold_once_then_distinct_pool_candidates():
  rng = np.random.default_rng(0)
  picked = np.array([105, 103, 105, 111])
  cands = batches.candidate_set(picked, POOL, 8, rng)
  assert list(cands[:3]) == [105, 103, 111]
  assert len(cands) == len(set(cands.tolist())) == 8
  assert set(cands.tolist()) <= set(POOL.tolist())
  with pytest.raises(ValueError, match="training pool holds 20"):
    batches.candidate_set(picked, POOL, 21, rng)


def test_hard_targets_share_a_column_and_split_several_gold():
  cands = np.array([7, 3, 9, 4])
  gold = [[3], [3], [9, 4], [4, 50]]  # 50 is not in the batch
  l = batches.hard_targets(gold, cands)
  np.testing.assert_array_equal(l, [[0, 1, 0, 0], [0, 1, 0, 0],
                                    [0, 0, 0.5, 0.5], [0, 0, 0, 1]])
  with pytest.raises(ValueError, match="none of its gold"):
    batches.hard_targets([[50]], cands)


def test_train_batch_pads_rows_and_depends_on_its_seed_epoch_position():
  gold = [[100], [101, 102], [100], [103]]
  make = lambda *key: batches.train_batch(
      np.array([0, 1, 2]), gold, POOL, 4, 2, batches.batch_rng(*key))
  b = make(0, 1, 2)
  assert b["candidates"].shape == (6,) and b["labels"].shape == (4, 6)
  np.testing.assert_array_equal(b["mask"], [1, 1, 1, 0])
  np.testing.assert_allclose(b["labels"].sum(axis=1), 1.0)
  # Rows 0 and 2 share gold 100: one column, both rows on it.
  col = list(b["candidates"]).index(100)
  assert b["labels"][0, col] == b["labels"][2, col] == 1.0
  again, other = make(0, 1, 2), make(0, 1, 3)
  for k in b:
    np.testing.assert_array_equal(b[k], again[k])
  assert not np.array_equal(b["candidates"], other["candidates"])


class _Lookup(nnx.Module):
  """A tower whose embedding of a text is the row of its first token id."""

  def __init__(self, table):
    self.table = nnx.Variable(jnp.asarray(table, jnp.float32))

  def __call__(self, ids, mask=None, *, deterministic=None):
    return self.table[...][ids[:, 0]]


def _loss(l, d, alpha, temperature=1.0):
  q = np.array([[1.0, 0.0], [0.0, 1.0]])
  s = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
  model = dual_encoder.DualEncoder(_Lookup(np.concatenate([q, s])),
                                   temperature=temperature)
  batch = {"query_ids": np.array([[0], [1]]), "query_mask": np.ones((2, 1)),
           "candidate_ids": np.array([[2], [3], [4]]),
           "candidate_mask": np.ones((3, 1)),
           "labels": np.asarray(l, np.float32),
           "soft_labels": np.asarray(d, np.float32), "mask": np.ones(2)}
  return float(rsteps.batch_loss(model, batch, alpha))


def test_loss_is_eq9_over_the_batch_candidates():
  # cos(q, s): q0 = (1, 0) -> [1, 0, -1]; q1 = (0, 1) -> [0, 1, 0].
  e = math.e
  o = [[e / (e + 1 + 1 / e), 1 / (e + 1 + 1 / e), (1 / e) / (e + 1 + 1 / e)],
       [1 / (2 + e), e / (2 + e), 1 / (2 + e)]]
  l = [[1, 0, 0], [0, 1, 0]]
  d = [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]]
  ce = -(math.log(o[0][0]) + math.log(o[1][1]))
  assert _loss(l, d, 0.0) == pytest.approx(ce / (2 * 2), rel=1e-5)
  alpha, p = 0.5, 3
  mse = sum((d[i][j] - o[i][j]) ** 2 for i in range(2) for j in range(3))
  eq9 = (ce + alpha / p * mse) / (2 * 2 * (1 + alpha) ** 2)
  assert _loss(l, d, alpha) == pytest.approx(eq9, rel=1e-5)
  # Temperature 1/2 doubles every logit.
  o2 = [math.exp(2) / (math.exp(2) + 1 + math.exp(-2)),
        math.exp(2) / (2 + math.exp(2))]
  assert _loss(l, d, 0.0, temperature=0.5) == pytest.approx(
      -(math.log(o2[0]) + math.log(o2[1])) / 4, rel=1e-5)


def test_two_queries_sharing_a_gold_candidate_both_aim_at_its_column():
  e = math.e
  l = [[1, 0, 0], [1, 0, 0]]
  ce = -(math.log(e / (e + 1 + 1 / e)) + math.log(1 / (2 + e)))
  assert _loss(l, l, 0.0) == pytest.approx(ce / 4, rel=1e-5)
