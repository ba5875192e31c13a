"""Soft targets d [B, C] of a batch: each query's row over the batch's candidates.

* none: d = l, the hard targets (alpha is 0, so d is never used).
* classic / tfidf / kwls: `CandidateSoftLabels.targets` (retrieval/soft.py),
  built on the training articles only: their sentences are the labels, the
  training questions the instances (the paper's footnote 2: train only).
* distill (LS-Distill): the teacher's softmax over the same candidates,
  softmax(q_t . s_t / temperature_t), from the embeddings its run saved
  (QUERY_EMB, CANDIDATE_EMB: every query and candidate of the benchmark) and
  the temperature in its config.json. Reading saved embeddings costs one
  [B, D] x [D, C] product a batch, where reloading the teacher would run its
  towers on every batch.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

from kwls_jax.training import config as config_lib
from kwls_jax.training.config import ConfigError, TrainConfig

QUERY_EMB = os.path.join("predictions", "query_emb.npy")  # [Q, D] float32
CANDIDATE_EMB = os.path.join("predictions", "candidate_emb.npy")  # [M, D]

# (training query rows [B], candidate ids [C], hard targets [B, C]) -> d [B, C]
Targets = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def softmax(z: np.ndarray) -> np.ndarray:
  """Row-wise softmax in float64, returned as float32."""
  z = np.asarray(z, np.float64)
  e = np.exp(z - z.max(axis=-1, keepdims=True))
  return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def _load_embeddings(path: str, rows: int) -> np.ndarray:
  try:
    x = np.load(path)
  except (OSError, ValueError) as e:
    raise ConfigError(f"teacher_run: cannot read {path}: {e}") from None
  if x.ndim != 2 or len(x) != rows:
    raise ConfigError(f"teacher_run: {path} has shape {list(x.shape)}, the "
                      f"benchmark needs {rows} rows")
  return x.astype(np.float32, copy=False)


def distill(config: TrainConfig, train_rows: np.ndarray, num_queries: int,
            num_candidates: int) -> Targets:
  """The teacher's softmax over each batch's candidates (LS-Distill); the
  teacher must have trained on the same fold's split."""
  teacher_run = config.teacher_run
  teacher = config_lib.from_dict(config_lib.read_file(
      os.path.join(teacher_run, "config.json")))
  if teacher.task != "retrieval":
    raise ConfigError(f"teacher_run: {teacher_run} is not a retrieval run")
  split = lambda r: (r.fold, r.folds, r.dev_share, r.split_seed)
  if split(teacher.retrieval) != split(config.retrieval):
    raise ConfigError(f"teacher_run: {teacher_run} trained on another split "
                      "(retrieval fold, folds, dev_share or split_seed)")
  q = _load_embeddings(os.path.join(teacher_run, QUERY_EMB),
                       num_queries)[train_rows]
  s = _load_embeddings(os.path.join(teacher_run, CANDIDATE_EMB),
                       num_candidates)
  t = teacher.retrieval.temperature
  return lambda rows, cands, hard: softmax(q[rows] @ s[cands].T / t)


def candidate_labels(config: TrainConfig, pool_texts: Sequence[str],
                     questions: Sequence[str],
                     gold: Sequence[Sequence[int]], pool: np.ndarray
                     ) -> Targets:
  """CandidateSoftLabels of the training pool (gold: global candidate ids)."""
  from kwls_jax.retrieval.soft import CandidateSoftLabels  # pylint: disable=g-import-not-at-top
  local = np.full(int(pool.max()) + 1, -1, np.int64)
  local[pool] = np.arange(len(pool))
  s = config.smoothing
  labels = CandidateSoftLabels.build(
      config.method, list(pool_texts), list(questions),
      [local[np.asarray(g)].tolist() for g in gold],
      label_doc=config.retrieval.label_doc, k1=s.k1, b=s.b, k2=s.k2,
      epsilon=s.epsilon, tokenizer=s.tokenizer)
  return lambda rows, cands, hard: np.asarray(
      labels.targets(rows, local[cands]), np.float32)


def build(config: TrainConfig, train_rows: np.ndarray,
          questions: Sequence[str], gold: Sequence[Sequence[int]],
          pool: np.ndarray, pool_texts: Sequence[str], num_queries: int,
          num_candidates: int) -> Targets:
  """The Targets of config.method; questions and gold are the training
  queries', in train_rows' order (rows of a batch index them)."""
  if config.method == "none":
    return lambda rows, cands, hard: hard
  if config.method == "distill":
    return distill(config, train_rows, num_queries, num_candidates)
  return candidate_labels(config, pool_texts, questions, gold, pool)
