"""Gold ranks with averaged ties, Recall@k and MRR, checked by hand."""

import numpy as np
import pytest
import scipy.stats

from kwls_jax.retrieval import gold_ranks, ranking, recall_at_k, search


SCORES = np.array([[3.0, 1.0, 3.0, 2.0],
                   [3.0, 1.0, 3.0, 2.0],
                   [3.0, 1.0, 3.0, 2.0],
                   [5.0, 5.0, 5.0, 5.0]])
# row 0, gold 1 (score 1): three above, none tied -> 4
# row 1, gold 0 or 3: the best gold is 3.0, tied with one other -> (1 + 2) / 2
# row 2, gold 3 (score 2): two above -> 3
# row 3, gold 2: all four tied -> (1 + 2 + 3 + 4) / 4
GOLD = [[1], [3, 0], [3], [2]]
RANKS = [4.0, 1.5, 3.0, 2.5]


def test_gold_ranks_average_ties():
  np.testing.assert_array_equal(gold_ranks(SCORES, GOLD), RANKS)


def test_recall_at_k_and_mrr():
  assert recall_at_k(RANKS, ks=(1, 2, 3, 4)) == {
      "R@1": 0.0, "R@2": 25.0, "R@3": 75.0, "R@4": 100.0}
  assert ranking.mrr(RANKS) == pytest.approx(
      100 * (1 / 4 + 1 / 1.5 + 1 / 3 + 1 / 2.5) / 4)


def test_ties_are_those_of_the_given_dtype():
  scores = np.array([[1.0, 1.0 + 1e-12]])  # equal in float32, not in float64
  assert gold_ranks(scores, [[0]])[0] == 2.0
  assert gold_ranks(scores.astype(np.float32), [[0]])[0] == 1.5


@pytest.mark.parametrize("budget", [1, 40, 1 << 20])
def test_matches_scipy_rankdata_in_any_chunking(monkeypatch, budget):
  monkeypatch.setattr(ranking, "SCORE_BUDGET", budget)
  rng = np.random.default_rng(0)
  scores = rng.integers(0, 4, (23, 9)).astype(np.float32)  # many ties
  gold = [list(rng.choice(9, rng.integers(1, 4), replace=False))
          for _ in range(23)]
  expected = [min(scipy.stats.rankdata(-s, "average")[g]) for s, g in
              zip(scores, gold)]
  np.testing.assert_array_equal(gold_ranks(scores, gold), expected)


def test_bad_shapes_and_empty_gold():
  with pytest.raises(ValueError, match="do not match"):
    gold_ranks(SCORES, GOLD[:3])
  with pytest.raises(ValueError, match="at least one gold"):
    gold_ranks(SCORES, [[1], [], [0], [0]])
  with pytest.raises(ValueError, match="gold id 4"):
    gold_ranks(SCORES, [[4], [0], [0], [0]])


@pytest.mark.parametrize("chunk", [None, 1, 4, 7])
def test_search_top_k_and_ranks(chunk):
  rng = np.random.default_rng(1)
  queries = rng.standard_normal((11, 16)).astype(np.float32)
  candidates = rng.standard_normal((50, 16)).astype(np.float32)
  candidates[7] = candidates[3]  # a tie for every query
  queries[1] = queries[0]
  gold = [[3], [7]] + [[i] for i in range(9)]
  scores = queries.astype(np.float64) @ candidates.T.astype(np.float64)
  result = search.search(queries, candidates, k=5, gold=gold, chunk=chunk)
  assert result.ids.shape == result.scores.shape == (11, 5)
  np.testing.assert_allclose(
      result.scores, -np.sort(-scores, axis=1)[:, :5], rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(
      np.take_along_axis(scores, result.ids.astype(int), 1), result.scores,
      rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(result.ranks, gold_ranks(
      np.asarray(queries @ candidates.T), gold))
  assert result.ranks[0] == result.ranks[1]  # 3 and 7 tie: each at x.5
  assert result.ranks[0] % 1 == 0.5


def test_search_k_beyond_pool_and_chunk_size_bound():
  rng = np.random.default_rng(2)
  result = search.search(rng.standard_normal((3, 4)),
                         rng.standard_normal((2, 4)), k=10)
  assert result.ids.shape == (3, 2) and result.ranks is None
  assert search.chunk_size(10_000, 100_000, budget=1 << 27) * 100_000 * 4 <= (
      1 << 27)
  assert search.chunk_size(10, 10**9, budget=1 << 27) == 1
