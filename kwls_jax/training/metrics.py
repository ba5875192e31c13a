"""Classification metrics in pure numpy: accuracy, macro-F1, NLL, ECE.

Labels are int ids [N] or, for multi-label corpora, multi-hot rows [N, P].
With multi-hot rows the model's top prediction is right when it is one of
the row's labels (accuracy is then precision@1), a class's F1 counts that
prediction against the row's label set, and the NLL is the cross-entropy
to the row's labels spread evenly, -sum_j l_ij log o_ij / |l_i|. Each
reduces to the single-label metric when every row has one label.
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 15


def softmax(logits: np.ndarray) -> np.ndarray:
  """Row-wise softmax in float64."""
  z = np.asarray(logits, np.float64)
  z = z - z.max(axis=-1, keepdims=True)
  e = np.exp(z)
  return e / e.sum(axis=-1, keepdims=True)


def label_sets(labels: np.ndarray, num_labels: int) -> np.ndarray:
  """Hard labels as a bool [N, P] matrix from ids [N] or multi-hot [N, P]."""
  labels = np.asarray(labels)
  if labels.ndim == 2:
    if labels.shape[1] != num_labels:
      raise ValueError(f"labels are [N, {labels.shape[1]}], logits "
                       f"[N, {num_labels}]")
    return labels > 0
  out = np.zeros((len(labels), num_labels), dtype=bool)
  out[np.arange(len(labels)), labels] = True
  return out


def macro_f1(labels: np.ndarray, preds: np.ndarray) -> float:
  """Mean F1 over the classes present in labels or predictions (as sklearn).

  `labels` are ids [N] or bool label sets [N, P]; `preds` are ids [N].
  """
  labels, preds = np.asarray(labels), np.asarray(preds)
  if labels.ndim == 1:
    classes = np.union1d(labels, preds)
    labels = labels[:, None] == classes[None, :]
  else:
    classes = np.union1d(np.flatnonzero(labels.any(axis=0)), preds)
    labels = labels[:, classes].astype(bool)
  predicted = preds[:, None] == classes[None, :]
  tp = np.sum(predicted & labels, axis=0)
  fp = np.sum(predicted & ~labels, axis=0)
  fn = np.sum(~predicted & labels, axis=0)
  denom = 2 * tp + fp + fn
  f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
  return float(np.mean(f1)) if len(classes) else 0.0


def reliability_bins(probs: np.ndarray, correct: np.ndarray,
                     bins: int = ECE_BINS
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(rows, mean confidence, accuracy) per equal-width confidence bin [bins].

  Bin b holds the rows whose top probability lies in (b/bins, (b+1)/bins];
  `correct` [N] bool says whether each row's top prediction is right. Empty
  bins have 0 rows and NaN means.
  """
  correct = np.asarray(correct, bool)
  conf = np.asarray(probs).max(axis=-1)
  which = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
  rows = np.bincount(which, minlength=bins)
  with np.errstate(invalid="ignore", divide="ignore"):
    mean_conf = np.bincount(which, conf, minlength=bins) / rows
    acc = np.bincount(which, correct.astype(np.float64), minlength=bins) / rows
  return rows, mean_conf, acc


def ece_of_bins(rows: np.ndarray, mean_conf: np.ndarray,
                acc: np.ndarray) -> float:
  """sum_b |B_b|/N |acc(B_b) - conf(B_b)| from `reliability_bins`."""
  full = rows > 0
  return float(np.sum(rows[full] / rows.sum() *
                      np.abs(acc[full] - mean_conf[full])))


def expected_calibration_error(probs: np.ndarray, correct: np.ndarray,
                               bins: int = ECE_BINS) -> float:
  """The ECE over equal-width confidence bins (`reliability_bins`)."""
  return ece_of_bins(*reliability_bins(probs, correct, bins))


def top_correct(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
  """[N] bool: the top prediction is (one of) the row's label(s)."""
  sets = label_sets(labels, probs.shape[-1])
  return sets[np.arange(len(probs)), np.asarray(probs).argmax(axis=-1)]


def compute_metrics(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
  """accuracy, macro_f1, nll and ece (15 bins) of [N, P] logits; see above."""
  z = np.asarray(logits, np.float64)
  z = z - z.max(axis=-1, keepdims=True)
  log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
  probs = np.exp(log_probs)
  preds = probs.argmax(axis=-1)
  sets = label_sets(labels, z.shape[-1])
  n_labels = sets.sum(axis=-1)
  if np.any(n_labels == 0):
    raise ValueError(f"{int(np.sum(n_labels == 0))} rows have no label "
                     f"(first: row {int(np.argmin(n_labels))})")
  correct = sets[np.arange(len(preds)), preds]
  nll = -np.sum(np.where(sets, log_probs, 0.0), axis=-1) / n_labels
  return {"accuracy": float(np.mean(correct)),
          "macro_f1": macro_f1(sets, preds),
          "nll": float(np.mean(nll)),
          "ece": expected_calibration_error(probs, correct),
          "count": int(len(preds))}
