"""Corpora for the smoothing tests: a synthetic one that always exists, and
small samples of the real ones in the shared datasets, cached per session."""

from __future__ import annotations

import functools
import pathlib

import numpy as np

from kwls_jax.corpora.jsonl import read_jsonl

# Words the tokenizers treat differently from plain ASCII: accents, capitals
# that lowercase to two characters, scripts without spaces, numerics, joiners.
UNICODE_WORDS = ("café", "naïve", "Straße", "İstanbul", "ΣΊΣΥΦΟΣ", "数字一二三",
                 "かな", "x²", "½", "snake_case", "don't", "e-mail", "U.S.",
                 "face😀s", "<br />", "cafe\u0301", "nbsp\xa0gap")
PUNCTUATION = ("", "", "", ".", ",", "!", "?", " ...", ":")


@functools.lru_cache(maxsize=None)
def synthetic(n: int = 3000, num_labels: int = 4, seed: int = 0,
              vocab_size: int = 2000):
  """(texts, label ids, P) of a deterministic corpus shaped like a real one.

  Words follow a Zipf law; a third of each text comes from its label's own
  ranking of the vocabulary (so labels have keywords); words repeat; every
  50th text is empty; some words are capitalised, punctuated or unicode.
  """
  rng = np.random.default_rng(seed)
  ascii_words = [f"w{j}" for j in range(vocab_size)]
  vocab = np.array(ascii_words[:3] + list(UNICODE_WORDS) + ascii_words[3:],
                   dtype=object)
  zipf = np.cumsum(1 / np.arange(1, len(vocab) + 1) ** 1.1)
  draw = lambda k: np.searchsorted(zipf, rng.random(k) * zipf[-1])
  own = [rng.permutation(len(vocab)) for _ in range(num_labels)]
  labels = np.arange(n) % num_labels
  rng.shuffle(labels)
  texts = []
  for i, m in enumerate(labels):
    if i % 50 == 7:
      texts.append("")
      continue
    length = int(rng.geometric(1 / 30))
    ids = np.concatenate([draw(length), own[m][draw(length // 3 + 1)]])
    rng.shuffle(ids)
    cap = rng.random(len(ids)) < 0.1
    marks = rng.integers(len(PUNCTUATION), size=len(ids))
    texts.append(" ".join((w.capitalize() if c else w) + PUNCTUATION[k]
                          for w, c, k in zip(vocab[ids], cap, marks)))
  return texts, labels, num_labels


@functools.lru_cache(maxsize=None)
def load(path: pathlib.Path, limit: int | None = None, stride: int = 1):
  """(texts, label ids, P) of every `stride`-th row, at most `limit` rows."""
  c = read_jsonl(path)
  idx = np.arange(0, len(c), stride)[:limit]
  return [c.texts[i] for i in idx], c.labels[idx], c.num_labels
