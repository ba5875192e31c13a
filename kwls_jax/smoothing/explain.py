"""Where a soft label comes from.

ILR (Eq. 7) is a sum over the distinct words of an instance, so every soft label
decomposes exactly into word contributions WLR_{w,m} * WIR_{w,i} / X_avg.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kwls_jax.smoothing import relevance
from kwls_jax.smoothing.engine import SoftLabelResult


@dataclasses.dataclass
class WordContributions:
  """The words of one instance and their share of each label's ILR."""

  words: list[str]  # the distinct words of x_i
  counts: np.ndarray  # [W] f_{w,x_i}
  contributions: np.ndarray  # [W, P]; column m sums to ILR_{i,m}
  ilr: np.ndarray  # [P]
  soft_label: np.ndarray  # [P]


def top_keywords(result: SoftLabelResult, top: int = 10,
                 vocab: list[str] | None = None):
  """The `top` words of each label by WLR (Eq. 3): a list over labels of [(word, wlr)]."""
  vocab = result.counts.vocab() if vocab is None else vocab
  out = []
  for m in range(result.wlr.shape[1]):
    col = result.wlr[:, m]
    k = min(top, len(col))
    idx = np.argpartition(-col, k - 1)[:k] if k else np.zeros(0, int)
    idx = idx[np.lexsort((idx, -col[idx]))]  # by WLR, ties by word id
    out.append([(vocab[j], float(col[j])) for j in idx if col[j] > 0])
  return out


def word_contributions(result: SoftLabelResult, instance: int,
                       vocab: list[str] | None = None) -> WordContributions:
  """Each distinct word's term WLR_{w,m} WIR_{w,i} / X_avg of ILR_{i,m} (Eq. 7)."""
  counts = result.counts
  if not 0 <= instance < counts.num_docs:
    raise IndexError(
        f"instance {instance} out of range [0, {counts.num_docs})")
  lo, hi = counts.doc_ptr[instance], counts.doc_ptr[instance + 1]
  word, f = counts.word[lo:hi], counts.count[lo:hi].astype(np.float64)
  wic_fn = relevance.WEIGHTINGS[result.method][2]
  wir = result.wiw[word].astype(np.float64) * np.asarray(wic_fn(f, result.k2))
  x_avg = result.stats.x_avg if result.stats.x_avg > 0 else 1.0
  contrib = result.wlr[word].astype(np.float64) * wir[:, None] / x_avg
  vocab = counts.vocab() if vocab is None else vocab
  return WordContributions(
      words=[vocab[j] for j in word], counts=f.astype(np.int64),
      contributions=contrib, ilr=result.ilr[instance],
      soft_label=result.soft_labels[instance])


@dataclasses.dataclass
class LabelAgreement:
  """Per label m, how the soft labels of the rows carrying m treat m."""

  rows: np.ndarray  # [P] rows carrying label m
  mean_own: np.ndarray  # [P] mean soft-label mass on m over those rows
  mean_other: np.ndarray  # [P] mean soft-label mass on m over the other rows
  agree: np.ndarray  # [P] share of those rows whose soft argmax is a label of theirs


def label_agreement(soft_labels: np.ndarray, labels: np.ndarray,
                    num_labels: int) -> LabelAgreement:
  """Per label: its rows, the mean soft mass on it in and outside them, and how often the argmax is theirs."""
  soft = np.asarray(soft_labels, np.float64)
  labels = np.asarray(labels)
  hot = (labels.astype(bool) if labels.ndim == 2
         else np.eye(num_labels, dtype=bool)[labels])
  own_top = hot[np.arange(len(soft)), soft.argmax(1)]
  rows = hot.sum(0)
  with np.errstate(invalid="ignore", divide="ignore"):
    mean_own = (soft * hot).sum(0) / rows
    mean_other = (soft * ~hot).sum(0) / (len(soft) - rows)
    agree = (hot & own_top[:, None]).sum(0) / rows
  return LabelAgreement(rows=rows, mean_own=mean_own, mean_other=mean_other,
                        agree=agree)


def format_agreement(a: LabelAgreement, label_names: list[str]) -> str:
  """Plain-text table of `label_agreement`."""
  width = max(len("label"), *(len(n) for n in label_names))
  lines = [f"{'label':<{width}}  {'rows':>8}  {'own rows':>9}  "
           f"{'other rows':>10}  {'argmax own':>10}"]
  for m, name in enumerate(label_names):
    if not a.rows[m]:
      lines.append(f"{name:<{width}}  {0:8d}  {'-':>9}  "
                   f"{a.mean_other[m]:10.4f}  {'-':>10}")
      continue
    lines.append(f"{name:<{width}}  {a.rows[m]:8d}  {a.mean_own[m]:9.4f}  "
                 f"{a.mean_other[m]:10.4f}  {100 * a.agree[m]:9.2f}%")
  return "\n".join(lines)


def format_keywords(keywords, label_names: list[str]) -> str:
  """Plain-text table of `top_keywords`."""
  lines = []
  for name, words in zip(label_names, keywords):
    lines.append(f"{name}:")
    lines.extend(f"  {w!s:<24} {v:10.4f}" for w, v in words)
  return "\n".join(lines)


def format_contributions(wc: WordContributions, label_names: list[str],
                         top: int = 10) -> str:
  """Plain-text table: per label, soft label, ILR and the top words' shares."""
  lines = []
  for m, name in enumerate(label_names):
    lines.append(f"{name}: soft label {wc.soft_label[m]:.4f}, "
                 f"ILR {wc.ilr[m]:.4f}")
    col = wc.contributions[:, m]
    for j in np.argsort(-col, kind="stable")[:top]:
      if col[j] <= 0:
        break
      lines.append(f"  {wc.words[j]!s:<24} x{wc.counts[j]:<4d} {col[j]:10.4f}")
  return "\n".join(lines)
