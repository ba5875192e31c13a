"""Splits, encoding and batches: deterministic, resumable, every row once."""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Iterator

import numpy as np

from kwls_jax.corpora.corpus import Corpus
from kwls_jax.corpora.errors import CorpusError
from kwls_jax.training.config import ConfigError, TrainConfig


@dataclasses.dataclass
class Split:
  """An encoded split: int32 input_ids / attention_mask [N, T] and labels:
  int32 ids [N], or float32 multi-hot rows [N, P] for a multi-label corpus."""

  input_ids: np.ndarray
  attention_mask: np.ndarray
  labels: np.ndarray
  texts: list[str] | None = None

  def __len__(self) -> int:
    return len(self.labels)


def load_split(spec: Any, data_dir: str = "") -> Corpus:
  """A corpus from a path, "name:split", or {path, fold, k, seed, part}."""
  from kwls_jax.corpora import load_corpus  # pylint: disable=g-import-not-at-top
  data_dir = data_dir or None
  if isinstance(spec, dict):
    from kwls_jax.corpora import subsets  # pylint: disable=g-import-not-at-top
    corpus = load_split(spec["path"], data_dir or "")
    # Folds are stratified by label; a multi-label row counts under its first.
    strata = (corpus.labels.argmax(axis=1) if corpus.multi_label
              else corpus.labels)
    train, dev = subsets.train_dev(strata, fold=int(spec.get("fold", 0)),
                                   k=int(spec.get("k", 4)),
                                   seed=int(spec.get("seed", 0)))
    return corpus.select(train if spec.get("part", "train") == "train" else dev)
  if os.path.exists(spec) or spec.endswith((".jsonl", ".jsonl.gz")):
    return load_corpus(spec, "train", data_dir=data_dir)
  name, sep, split = spec.partition(":")
  if not sep:
    raise ConfigError(f"data: {spec!r} is neither a file nor 'name:split'")
  return load_corpus(name, split, data_dir=data_dir)


def load_corpora(config: TrainConfig) -> dict[str, Corpus]:
  """{'train', 'dev' (when given), 'test'} corpora.

  When any split is multi-label, every split's labels become multi-hot
  [N, P]; a row without any label is refused (it has nothing to learn or
  to be scored against).
  """
  out = {}
  for name in ("train", "dev", "test"):
    spec = getattr(config.data, name)
    if spec in ("", None):
      continue
    try:
      out[name] = load_split(spec, config.data.data_dir)
    except CorpusError as e:
      raise ConfigError(f"data.{name}: {e}") from None
  names = {n: c.label_names for n, c in out.items()}
  if len({tuple(v) for v in names.values()}) != 1:
    raise ConfigError(f"data: label names differ between splits: {names}")
  if any(c.multi_label for c in out.values()):
    for name, corpus in out.items():
      hot = corpus.multi_hot()
      empty = np.flatnonzero(~hot.any(axis=1))
      if len(empty):
        raise ConfigError(
            f"data.{name}: {len(empty)} rows have no label (the first is row "
            f"{int(empty[0])} of the split, counting from 0); training needs "
            "at least one label per row")
      out[name] = dataclasses.replace(corpus, labels=hot)
  return out


def encode(corpus: Corpus, encoder, keep_texts: bool = False) -> Split:
  """A Split of a corpus."""
  enc = encoder(corpus.texts)
  labels = np.asarray(corpus.labels,
                      np.float32 if corpus.multi_label else np.int32)
  return Split(enc["input_ids"].astype(np.int32),
               enc["attention_mask"].astype(np.int32), labels,
               list(corpus.texts) if keep_texts else None)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
  """The row order of one epoch, a function of (seed, epoch) alone."""
  return np.random.default_rng([seed, 7, epoch]).permutation(n)


def steps_per_epoch(n: int, batch_size: int) -> int:
  """Batches per epoch, the last one partial (padded and masked)."""
  return -(-n // batch_size)


def gather(split: Split, rows: np.ndarray, batch_size: int,
           soft_labels: np.ndarray | None = None) -> dict[str, np.ndarray]:
  """The batch of `rows`, padded to batch_size; mask 0 marks padding rows."""
  pad = batch_size - len(rows)
  idx = np.concatenate([rows, np.zeros(pad, rows.dtype)]) if pad else rows
  mask = np.zeros(batch_size, np.float32)
  mask[:len(rows)] = 1.0
  batch = {"input_ids": split.input_ids[idx],
           "attention_mask": split.attention_mask[idx],
           "labels": split.labels[idx], "mask": mask}
  if soft_labels is not None:
    batch["soft_labels"] = soft_labels[idx].astype(np.float32, copy=False)
  return batch


def train_batches(split: Split, soft_labels: np.ndarray, batch_size: int,
                  seed: int, epoch: int,
                  start_step: int = 0) -> Iterator[dict[str, np.ndarray]]:
  """Shuffled batches of one epoch from batch `start_step` on (for resume)."""
  order = epoch_order(len(split), seed, epoch)
  for s in range(start_step, steps_per_epoch(len(split), batch_size)):
    yield gather(split, order[s * batch_size:(s + 1) * batch_size], batch_size,
                 soft_labels)


def eval_batches(split: Split,
                 batch_size: int) -> Iterator[dict[str, np.ndarray]]:
  """Batches in row order; the last is padded, its padding masked out."""
  for start in range(0, len(split), batch_size):
    yield gather(split, np.arange(start, min(start + batch_size, len(split))),
                 batch_size)
