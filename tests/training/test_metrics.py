"""compute_metrics: accuracy, macro-F1, NLL and ECE against hand values."""

from __future__ import annotations

import numpy as np
import pytest

from kwls_jax.training import metrics


def test_hand_computed_values():
  probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
  labels = np.array([0, 1, 1, 0])
  m = metrics.compute_metrics(np.log(probs), labels)
  assert m["accuracy"] == 0.5 and m["count"] == 4
  # class 0: tp 1, fp 1, fn 1 -> F1 0.5; class 1 likewise.
  assert np.isclose(m["macro_f1"], 0.5)
  nll = -np.mean(np.log([0.9, 0.4, 0.7, 0.2]))
  assert np.isclose(m["nll"], nll)
  # Confidences 0.9, 0.6, 0.7, 0.8 fall in four bins of width 1/15:
  # |1-0.9| + |0-0.6| + |1-0.7| + |0-0.8|, each weighted 1/4.
  assert np.isclose(m["ece"], (0.1 + 0.6 + 0.3 + 0.8) / 4)


def test_ece_shares_bins():
  probs = np.array([[0.95, 0.05], [0.96, 0.04], [0.4, 0.6]])
  labels = np.array([0, 1, 1])
  # 0.95 and 0.96 share bin 14 (conf mean 0.955, acc 0.5); 0.6 alone.
  want = 2 / 3 * abs(0.5 - 0.955) + 1 / 3 * abs(1 - 0.6)
  correct = probs.argmax(axis=-1) == labels
  assert np.isclose(metrics.expected_calibration_error(probs, correct), want)


def test_macro_f1_skips_classes_absent_everywhere():
  labels, preds = np.array([0, 0, 2, 2]), np.array([0, 2, 2, 2])
  # class 0: p 1, r .5 -> 2/3; class 2: p 2/3, r 1 -> 0.8; class 1 unseen.
  assert np.isclose(metrics.macro_f1(labels, preds), (2 / 3 + 0.8) / 2)


def test_nll_is_stable_for_extreme_logits():
  m = metrics.compute_metrics(np.array([[1000.0, -1000.0]]), np.array([1]))
  assert np.isclose(m["nll"], 2000.0)


def test_multi_hot_rows_with_one_label_give_the_single_label_metrics():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(200, 5)) * 3
  labels = rng.integers(0, 5, 200)
  labels[:3] = 4  # class 4 is never predicted for these rows (maybe)
  single = metrics.compute_metrics(logits, labels)
  multi = metrics.compute_metrics(logits, np.eye(5, dtype=bool)[labels])
  assert single.keys() == multi.keys()
  for k in single:
    assert np.isclose(single[k], multi[k]), k


def test_multi_label_hand_values():
  probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
  sets = np.array([[1, 1, 0], [1, 0, 1], [0, 0, 1]], bool)
  m = metrics.compute_metrics(np.log(probs), sets.astype(np.float32))
  # Top predictions 0, 1, 2: right, wrong (1 not in {0, 2}), right.
  assert np.isclose(m["accuracy"], 2 / 3)
  # class 0: tp 1, fn 1 (row 1) -> 2/3; class 1: fp 1, fn 1 -> 0;
  # class 2: tp 1, fn 1 (row 1) -> 2/3.
  assert np.isclose(m["macro_f1"], (2 / 3 + 0 + 2 / 3) / 3)
  nll = np.mean([-(np.log(0.5) + np.log(0.3)) / 2,
                 -(np.log(0.1) + np.log(0.3)) / 2, -np.log(0.6)])
  assert np.isclose(m["nll"], nll)


def test_rows_without_a_label_are_refused():
  sets = np.array([[1, 0], [0, 0]], np.float32)
  with pytest.raises(ValueError, match="row 1"):
    metrics.compute_metrics(np.zeros((2, 2)), sets)


def test_reliability_bins_by_hand():
  # Top probabilities 0.95, 0.95, 0.55, 0.65; the second row is wrong.
  probs = np.array([[0.95, 0.05], [0.05, 0.95], [0.55, 0.45], [0.35, 0.65]])
  correct = metrics.top_correct(probs, np.array([0, 0, 0, 1]))
  np.testing.assert_array_equal(correct, [True, False, True, True])
  rows, conf, acc = metrics.reliability_bins(probs, correct, bins=10)
  np.testing.assert_array_equal(rows, [0] * 5 + [1, 1, 0, 0, 2])
  np.testing.assert_allclose(conf[[5, 6, 9]], [0.55, 0.65, 0.95])
  np.testing.assert_allclose(acc[[5, 6, 9]], [1.0, 1.0, 0.5])
  assert np.isnan(conf[0]) and np.isnan(acc[7])
  # ECE: 2/4 |0.5 - 0.95| + 1/4 |1 - 0.55| + 1/4 |1 - 0.65|
  assert metrics.expected_calibration_error(probs, correct, bins=10) == (
      pytest.approx(0.225 + 0.1125 + 0.0875))
