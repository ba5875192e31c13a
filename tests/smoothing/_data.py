"""Small real samples of the shared corpora, cached per test session."""

from __future__ import annotations

import functools
import pathlib

import numpy as np

from kwls_jax.corpora.jsonl import read_jsonl


@functools.lru_cache(maxsize=None)
def load(path: pathlib.Path, limit: int | None = None, stride: int = 1):
  """(texts, label ids, P) of every `stride`-th row, at most `limit` rows."""
  c = read_jsonl(path)
  idx = np.arange(0, len(c), stride)[:limit]
  return [c.texts[i] for i in idx], c.labels[idx], c.num_labels
