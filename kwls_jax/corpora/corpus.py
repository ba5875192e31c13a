"""The one in-memory form of a corpus that every stage downstream reads."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Corpus:
  """Texts with hard labels.

  `labels` is either an int64 array [N] of label ids (single-label) or a bool
  array [N, P] of multi-hot rows (multi-label: an instance in several X_m).
  """

  texts: list[str]
  labels: np.ndarray
  label_names: list[str]
  name: str = ""
  split: str = ""
  source: str = ""  # "local:<path>" or "tfds:<name>"

  def __post_init__(self):
    self.labels = np.asarray(self.labels)
    if self.labels.ndim not in (1, 2):
      raise ValueError(f"labels must be [N] or [N, P], got shape {self.labels.shape}")
    if self.labels.shape[0] != len(self.texts):
      raise ValueError(
          f"{len(self.texts)} texts but {self.labels.shape[0]} labels")

  def __len__(self) -> int:
    return len(self.texts)

  @property
  def num_labels(self) -> int:
    return len(self.label_names)

  @property
  def multi_label(self) -> bool:
    return self.labels.ndim == 2

  def multi_hot(self) -> np.ndarray:
    """Hard labels l_i as a bool [N, P] matrix (paper Sec. 3)."""
    if self.multi_label:
      return self.labels.astype(bool)
    out = np.zeros((len(self), self.num_labels), dtype=bool)
    out[np.arange(len(self)), self.labels] = True
    return out

  def select(self, index) -> "Corpus":
    """A sub-corpus of the rows in `index` (int array or slice), order kept."""
    idx = np.arange(len(self))[index]
    return dataclasses.replace(
        self, texts=[self.texts[i] for i in idx], labels=self.labels[idx])
