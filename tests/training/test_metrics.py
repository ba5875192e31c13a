"""compute_metrics: accuracy, macro-F1, NLL and ECE against hand values."""

from __future__ import annotations

import numpy as np

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
  assert np.isclose(metrics.expected_calibration_error(probs, labels), want)


def test_macro_f1_skips_classes_absent_everywhere():
  labels, preds = np.array([0, 0, 2, 2]), np.array([0, 2, 2, 2])
  # class 0: p 1, r .5 -> 2/3; class 2: p 2/3, r 1 -> 0.8; class 1 unseen.
  assert np.isclose(metrics.macro_f1(labels, preds), (2 / 3 + 0.8) / 2)


def test_nll_is_stable_for_extreme_logits():
  m = metrics.compute_metrics(np.array([[1000.0, -1000.0]]), np.array([1]))
  assert np.isclose(m["nll"], 2000.0)
