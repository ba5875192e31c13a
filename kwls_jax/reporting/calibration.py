"""Reliability of runs' test predictions: confidence against accuracy.

Label smoothing is known for what it does to calibration; the paper reports
accuracy only. These are the numbers behind a reliability diagram
(`figures.calibration`), per run or pooled over a cell's replicates.
"""

from __future__ import annotations

import json
import os
from typing import Sequence

import numpy as np

from kwls_jax.training import metrics

Predictions = tuple[np.ndarray, np.ndarray]  # probs [N, P], labels [N] / [N, P]


def run_predictions(run_dir: str, split: str = "test") -> Predictions:
  """A run's saved probabilities of `split` and the labels they are scored
  against: predictions/{split}_labels.npy, or for runs that predate it the
  split named in the run's config."""
  pred = os.path.join(run_dir, "predictions")
  probs_path = os.path.join(pred, f"{split}_probs.npy")
  if not os.path.exists(probs_path):
    raise ValueError(f"{run_dir}: no predictions/{split}_probs.npy "
                     "(a finished `kwls train` run writes it)")
  probs = np.load(probs_path)
  labels_path = os.path.join(pred, f"{split}_labels.npy")
  if os.path.exists(labels_path):
    labels = np.load(labels_path)
  else:
    labels = _labels_from_config(run_dir, split)
  if len(labels) != len(probs):
    raise ValueError(f"{run_dir}: {len(probs)} {split} predictions but "
                     f"{len(labels)} labels")
  return probs, labels


def _labels_from_config(run_dir: str, split: str) -> np.ndarray:
  from kwls_jax.corpora import CorpusError  # pylint: disable=g-import-not-at-top
  from kwls_jax.training import config as config_lib  # pylint: disable=g-import-not-at-top
  from kwls_jax.training import data as data_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.from_dict(
      config_lib.read_file(os.path.join(run_dir, "config.json")))
  try:
    corpus = data_lib.load_split(getattr(config.data, split),
                                 config.data.data_dir)
  except CorpusError as e:
    raise ValueError(f"{run_dir}: labels of data.{split}: {e}") from None
  return corpus.multi_hot() if corpus.multi_label else corpus.labels


def read_reliability(run_dir: str) -> dict:
  """A run record's reliability bins (reliability.json), else those of the
  run's saved test predictions."""
  path = os.path.join(run_dir, "reliability.json")
  if not os.path.exists(path):
    return reliability(*run_predictions(run_dir))
  with open(path, encoding="utf-8") as f:
    bins = json.load(f)
  nan = lambda xs: np.array([np.nan if x is None else x for x in xs], float)
  rows = np.asarray(bins["rows"], np.int64)
  conf, acc = nan(bins["confidence"]), nan(bins["accuracy"])
  return {"rows": rows, "confidence": conf, "accuracy": acc,
          "ece": metrics.ece_of_bins(rows, conf, acc)}


def pooled_reliability(runs: Sequence[dict]) -> dict:
  """Replicates' reliability bins as one set: rows added, means weighted."""
  rows = np.sum([r["rows"] for r in runs], axis=0)
  weighted = lambda key: np.sum(
      [np.nan_to_num(r[key]) * r["rows"] for r in runs], axis=0)
  with np.errstate(invalid="ignore", divide="ignore"):
    conf = np.where(rows > 0, weighted("confidence") / rows, np.nan)
    acc = np.where(rows > 0, weighted("accuracy") / rows, np.nan)
  return {"rows": rows, "confidence": conf, "accuracy": acc,
          "ece": metrics.ece_of_bins(rows, conf, acc)}


def reliability(probs: np.ndarray, labels: np.ndarray,
                bins: int = metrics.ECE_BINS) -> dict:
  """Per-bin rows, mean confidence and accuracy, and the ECE they give."""
  rows, conf, acc = metrics.reliability_bins(
      probs, metrics.top_correct(probs, labels), bins)
  return {"rows": rows, "confidence": conf, "accuracy": acc,
          "ece": metrics.ece_of_bins(rows, conf, acc)}
