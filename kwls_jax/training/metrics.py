"""Classification metrics in pure numpy: accuracy, macro-F1, NLL, ECE."""

from __future__ import annotations

import numpy as np

ECE_BINS = 15


def softmax(logits: np.ndarray) -> np.ndarray:
  """Row-wise softmax in float64."""
  z = np.asarray(logits, np.float64)
  z = z - z.max(axis=-1, keepdims=True)
  e = np.exp(z)
  return e / e.sum(axis=-1, keepdims=True)


def macro_f1(labels: np.ndarray, preds: np.ndarray) -> float:
  """Mean F1 over the classes present in labels or predictions (as sklearn)."""
  classes = np.union1d(labels, preds)
  f1 = []
  for c in classes:
    tp = np.sum((preds == c) & (labels == c))
    fp = np.sum((preds == c) & (labels != c))
    fn = np.sum((preds != c) & (labels == c))
    denom = 2 * tp + fp + fn
    f1.append(2 * tp / denom if denom else 0.0)
  return float(np.mean(f1)) if f1 else 0.0


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray,
                               bins: int = ECE_BINS) -> float:
  """sum_b |B_b|/N |acc(B_b) - conf(B_b)| over equal-width confidence bins."""
  conf = probs.max(axis=-1)
  correct = probs.argmax(axis=-1) == labels
  # Bin b holds conf in (b/bins, (b+1)/bins]; conf > 0 always.
  which = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
  n = len(labels)
  total = 0.0
  for b in range(bins):
    sel = which == b
    if sel.any():
      total += sel.sum() / n * abs(correct[sel].mean() - conf[sel].mean())
  return float(total)


def compute_metrics(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
  """accuracy, macro_f1, nll (mean -log p_y) and ece (15 bins) of [N, P] logits."""
  labels = np.asarray(labels)
  z = np.asarray(logits, np.float64)
  z = z - z.max(axis=-1, keepdims=True)
  log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
  probs = np.exp(log_probs)
  preds = probs.argmax(axis=-1)
  log_p = log_probs[np.arange(len(labels)), labels]
  return {"accuracy": float(np.mean(preds == labels)),
          "macro_f1": macro_f1(labels, preds),
          "nll": float(-np.mean(log_p)),
          "ece": expected_calibration_error(probs, labels),
          "count": int(len(labels))}
