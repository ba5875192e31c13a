"""A word vocabulary for TextCNN and LSTM: build, save, map texts to ids."""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import re
from typing import Iterable, Sequence

import numpy as np

from kwls_jax.atomic import atomic_open

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1


def padding_mask(input_ids, attention_mask=None):
  """Bool [B, L]: the given mask, or the non-padding ids (PAD_ID) of word models."""
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  if attention_mask is None:
    return jnp.asarray(input_ids) != PAD_ID
  return jnp.asarray(attention_mask).astype(bool)


_WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def split_words(text: str, lowercase: bool = True) -> list[str]:
  """Words and single punctuation marks of a text."""
  return _WORD.findall(text.lower() if lowercase else text)


@dataclasses.dataclass
class WordVocab:
  """Id i is words[i]; id 0 is padding and id 1 stands for unknown words."""

  words: list[str]
  lowercase: bool = True

  def __post_init__(self):
    if self.words[:2] != [PAD, UNK]:
      raise ValueError(f"the first two words must be {PAD!r}, {UNK!r}")
    self.index = {w: i for i, w in enumerate(self.words)}

  @classmethod
  def build(cls, texts: Iterable[str], *, min_count: int = 1,
            max_size: int | None = None, lowercase: bool = True) -> "WordVocab":
    """Words seen at least min_count times, most frequent first, ties by word.

    max_size counts the two reserved entries.
    """
    counts = collections.Counter()
    for text in texts:
      counts.update(split_words(text, lowercase))
    kept = sorted((w for w, c in counts.items() if c >= min_count),
                  key=lambda w: (-counts[w], w))
    if max_size is not None:
      kept = kept[:max(0, max_size - 2)]
    return cls([PAD, UNK] + kept, lowercase=lowercase)

  def __len__(self) -> int:
    return len(self.words)

  def encode(self, texts: Sequence[str],
             max_length: int) -> dict[str, np.ndarray]:
    """input_ids and attention_mask as int32 [N, max_length], right-padded."""
    get = self.index.get
    rows = [[get(w, UNK_ID) for w in split_words(t, self.lowercase)[:max_length]]
            for t in texts]
    n = len(rows)
    lengths = np.fromiter((len(r) for r in rows), np.int64, count=n)
    flat = np.fromiter((i for r in rows for i in r), np.int32,
                       count=int(lengths.sum()))
    ids = np.full((n, max_length), PAD_ID, np.int32)
    cols = np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths,
                                            lengths)
    ids[np.repeat(np.arange(n), lengths), cols] = flat
    mask = np.arange(max_length)[None, :] < lengths[:, None]
    return {"input_ids": ids, "attention_mask": mask.astype(np.int32)}

  def save(self, path: str | os.PathLike) -> None:
    """Write the vocabulary as JSON (whole or not at all)."""
    with atomic_open(path) as f:
      json.dump({"words": self.words, "lowercase": self.lowercase}, f)

  @classmethod
  def load(cls, path: str | os.PathLike) -> "WordVocab":
    """Read a vocabulary written by save()."""
    with open(path, encoding="utf-8") as f:
      data = json.load(f)
    return cls(data["words"], lowercase=data["lowercase"])
