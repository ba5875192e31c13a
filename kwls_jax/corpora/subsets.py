"""The paper's splits and unbalanced training sets, as row indices.

Every function is deterministic in its seed and returns sorted int64 indices
into the corpus it was given, so a subset is reproducible and traceable.

* `folds`: the four-fold cross-validation of Sec. 5.1: the training data cut
  into k stratified folds; fold f serves as dev and the other k - 1 as train,
  which for k = 4 is the paper's 3:1 train/dev split, rotated four times.
* `undersample`: Table 4's setting: one class kept at 1/ratio of its size
  (at least one instance), the others unchanged.
* `ag_news_c` / `ag_news_m`: Table 5 / Figure 1: Business kept whole and c other
  classes undersampled 1:100, or (c = 3) all other classes cut to m each.
"""

from __future__ import annotations

import re

import numpy as np

AG_NEWS_BUSINESS = 2  # label id of Business in ag_news (World, Sports, Business, Sci/Tech)


def _rng(seed: int, *salt: int) -> np.random.Generator:
  return np.random.default_rng([seed, *salt])


def folds(labels: np.ndarray, k: int = 4, seed: int = 0) -> list[np.ndarray]:
  """k disjoint folds covering every row, each class spread evenly over them.

  Within each class the rows are shuffled, then dealt to the folds in turn
  (starting at a class-dependent fold), so fold sizes differ by at most one
  per class.
  """
  labels = np.asarray(labels)
  if labels.ndim != 1:
    raise ValueError("folds need single-label ids [N]")
  if k < 2:
    raise ValueError(f"k must be >= 2, got {k}")
  out = [[] for _ in range(k)]
  for j, c in enumerate(np.unique(labels)):
    rows = np.flatnonzero(labels == c)
    rows = rows[_rng(seed, 1, int(c)).permutation(len(rows))]
    for i, row in enumerate(rows):
      out[(i + j) % k].append(row)
  return [np.sort(np.asarray(f, dtype=np.int64)) for f in out]


def train_dev(labels: np.ndarray, fold: int = 0, k: int = 4,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """(train rows, dev rows) of one fold: dev = fold `fold`, train = the rest."""
  parts = folds(labels, k, seed)
  if not 0 <= fold < k:
    raise ValueError(f"fold must lie in [0, {k}), got {fold}")
  train = np.sort(np.concatenate([p for i, p in enumerate(parts) if i != fold]))
  return train, parts[fold]


def keep_count(n: int, ratio: int) -> int:
  """Instances kept when n are undersampled 1:ratio: n // ratio, at least 1."""
  return max(1, n // ratio) if n else 0


def undersample(labels: np.ndarray, classes, ratio: int = 100,
                seed: int = 0) -> np.ndarray:
  """Rows with each class in `classes` cut to 1/ratio of its rows; others kept."""
  labels = np.asarray(labels)
  keep = np.ones(len(labels), dtype=bool)
  for c in np.atleast_1d(classes):
    rows = np.flatnonzero(labels == c)
    drop = _rng(seed, 2, int(c)).permutation(rows)[keep_count(len(rows), ratio):]
    keep[drop] = False
  return np.flatnonzero(keep)


def cap_classes(labels: np.ndarray, classes, m: int,
                seed: int = 0) -> np.ndarray:
  """Rows with each class in `classes` cut to at most m rows; others kept."""
  labels = np.asarray(labels)
  keep = np.ones(len(labels), dtype=bool)
  for c in np.atleast_1d(classes):
    rows = np.flatnonzero(labels == c)
    keep[_rng(seed, 3, int(c)).permutation(rows)[m:]] = False
  return np.flatnonzero(keep)


def table4_sets(labels: np.ndarray, ratio: int = 100,
                seed: int = 0) -> dict[int, np.ndarray]:
  """Table 4: for each class in turn, that class undersampled 1:ratio."""
  return {int(c): undersample(labels, [c], ratio, seed)
          for c in np.unique(labels)}


def other_classes(num_labels: int, kept: int = AG_NEWS_BUSINESS) -> list[int]:
  """The classes undersampled in Table 5, in label-id order (kept class out)."""
  return [c for c in range(num_labels) if c != kept]


def ag_news_c(labels: np.ndarray, c: int, ratio: int = 100, seed: int = 0,
              kept: int = AG_NEWS_BUSINESS, num_labels: int = 4) -> np.ndarray:
  """Table 5 (c): Business whole, the first c other classes undersampled 1:ratio."""
  others = other_classes(num_labels, kept)
  if not 0 <= c <= len(others):
    raise ValueError(f"c must lie in [0, {len(others)}], got {c}")
  return undersample(labels, others[:c], ratio, seed)


def ag_news_m(labels: np.ndarray, m: int, seed: int = 0,
              kept: int = AG_NEWS_BUSINESS, num_labels: int = 4) -> np.ndarray:
  """Table 5 (m): Business whole, every other class cut to m instances (c = 3)."""
  if m < 1:
    raise ValueError(f"m must be >= 1, got {m}")
  return cap_classes(labels, other_classes(num_labels, kept), m, seed)


SETTINGS_HELP = ("balanced | under:C (class C undersampled 1:100, Table 4; "
                 "IMDb* is under:1) | agc:C (Table 5 c) | agm:M (Table 5 m); "
                 "the colon is optional (under1), as in file paths")
AG_NEWS_LABELS = ("World", "Sports", "Business", "Sci/Tech")


def check_setting(setting: str, num_labels: int | None = None,
                  label_names=None) -> tuple[str, int | None]:
  """(name, argument) of a setting, refused where it would not mean what it
  says on this corpus: under:C needs class C (of `num_labels`), agc and agm
  need AG News (`label_names` those of AG_NEWS_LABELS: Business kept whole)."""
  match = re.fullmatch(r"(balanced|under|agc|agm):?(\d*)", setting)
  if match is None or (match[1] == "balanced") == bool(match[2]):
    raise ValueError(f"unknown setting {setting!r}; one of {SETTINGS_HELP}")
  name, arg = match[1], int(match[2]) if match[2] else None
  if name == "under" and num_labels is not None and arg >= num_labels:
    raise ValueError(f"setting {setting!r}: class {arg} does not exist, the "
                     f"corpus has {num_labels} classes (0 to {num_labels - 1})")
  if name in ("agc", "agm") and tuple(label_names or ()) != AG_NEWS_LABELS:
    raise ValueError(
        f"setting {setting!r}: defined on AG News only (its classes "
        f"{list(AG_NEWS_LABELS)}, Business kept whole), but the corpus's "
        f"classes are {list(label_names) if label_names else 'unnamed'}")
  return name, arg


def apply_setting(labels: np.ndarray, setting: str, seed: int = 0,
                  num_labels: int | None = None,
                  label_names=None) -> np.ndarray:
  """Rows of a training set kept under a named unbalanced setting."""
  labels = np.asarray(labels)
  num_labels = num_labels or (len(label_names) if label_names else 0) or (
      int(labels.max()) + 1 if labels.size else 0)
  name, arg = check_setting(setting, num_labels, label_names)
  try:
    if name == "under":
      return undersample(labels, [arg], 100, seed)
    if name == "agc":
      return ag_news_c(labels, arg, seed=seed, num_labels=num_labels)
    if name == "agm":
      return ag_news_m(labels, arg, seed=seed, num_labels=num_labels)
  except ValueError as e:
    raise ValueError(f"setting {setting!r}: {e}") from None
  return np.arange(len(labels))


def fold_and_setting(labels: np.ndarray, setting: str, fold: int, k: int = 4,
                     seed: int = 0, num_labels: int | None = None,
                     label_names=None):
  """(train rows, dev rows): fold `fold` of k is dev (left balanced), the rest
  is train, reduced by `setting`. The test set is never touched (Sec. 5.5)."""
  train, dev = train_dev(labels, fold, k, seed)
  kept = apply_setting(np.asarray(labels)[train], setting, seed, num_labels,
                       label_names)
  return train[kept], dev
