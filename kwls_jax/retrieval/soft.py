"""Soft labels over ReQA candidates: KWLS, LS-TFIDF, LS-Classic; zero-shot ILR.

A candidate sentence m (of M) is a label; a training question q (of N) is an
instance. Words are those of `smoothing.tokenize` ("word" by default).

* Label document X_m. `label_doc="sentence"` (default): the candidate's own
  sentence text. `label_doc="questions"`: the training questions whose gold
  list holds m (a question gold for several candidates is in each of their
  X_m, as a multi-label instance is in the classification engine); a
  candidate that is gold for no training question falls back to its
  sentence, so it still has keywords. f_{w,X_m} counts w over X_m, S_m is its
  length in words.
* WLR_{w,m} (Eqs. 1-3) over the M label documents: S_avg is the mean of S_m
  over all M candidates, p = M in WLW, exactly as `smoothing.relevance`.
* WIR_{w,q} (Eqs. 4-6) over the training questions: N = #training questions,
  df_w = #training questions containing w.
* ILR_{q,m} = (1 / X_avg) sum over the distinct words w of q of
  WLR_{w,m} WIR_{w,q} (Eq. 7), X_avg the mean training question length.
* Soft label of training question q over the candidates it is trained against
  (its batch's candidates c_1..c_C): d_{q,j} = exp(ILR_{q,c_j}) /
  sum_k exp(ILR_{q,c_k}), the softmax of Eq. 8 (as the classification engine
  uses) restricted to those candidates, i.e. the softmax over all M
  renormalised on the batch.
* LS-TFIDF: the same with the classification engine's TF-IDF weights
  (`relevance.WEIGHTINGS["tfidf"]`): WLC = f_{w,X_m}, WLW = log(M / #label
  documents containing w), WIC = f_{w,q}, WIW = log(N / df_w).
* LS-Classic: (1 - eps) h_q + eps / C over the batch's C candidates, h_q the
  gold indicator over the batch normalised to sum 1, uniform when no gold
  candidate is in the batch (`smoothing.classic` on the batch).

Zero-shot ILR (not in the paper) scores an unseen query q against every
candidate: its WIR uses Eq. 5 over the training questions plus q itself,
WIW_w = log((N + 1) / (df_w + 1)) + 1 (LS-TFIDF: without the + 1), so a word
no training question holds still has a finite weight; WIC is Eq. 4 on q's own
counts; WLR and X_avg are the training ones. Words outside the vocabulary of
the candidates and training questions have no WLR and contribute nothing.

The word tables are computed once, in float64 on the CPU, with the
classification engine's functions; WLR is a CSR [M, V] and WIR a CSR [N, V]
matrix, so ILR for a batch is one sparse product.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Sequence

import jax
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
import scipy.special

from kwls_jax.retrieval import ranking
from kwls_jax.smoothing import classic, relevance
from kwls_jax.smoothing.api import check_hyperparameters
from kwls_jax.smoothing.tokenize import WordCounts, count_words

METHODS = ("kwls", "tfidf", "classic")
LABEL_DOCS = ("sentence", "questions")
CHUNK = 512  # zero-shot queries scored at once


@contextlib.contextmanager
def _float64_on_cpu():
  """The engine's jnp functions, evaluated eagerly in float64 on the host."""
  with jax.enable_x64(True), jax.default_device(jax.devices("cpu")[0]):
    yield


def count_matrix(counts: WordCounts, start: int = 0,
                 stop: int | None = None) -> sp.csr_matrix:
  """f_{w,x} [stop - start, V] of counted texts start..stop, as a CSR matrix."""
  stop = counts.num_docs if stop is None else stop
  lo, hi = counts.doc_ptr[start], counts.doc_ptr[stop]
  return sp.csr_matrix(
      (counts.count[lo:hi].astype(np.float64), counts.word[lo:hi],
       counts.doc_ptr[start:stop + 1] - lo),
      shape=(stop - start, counts.vocab_size))


def gold_matrix(gold: Sequence[Sequence[int]],
                num_candidates: int) -> sp.csr_matrix:
  """Hard labels [N, M]: 1 where candidate m is in question i's gold list."""
  rows, cols = [], []
  for i, g in enumerate(gold):
    g = sorted(set(int(m) for m in g))
    if g and not (0 <= g[0] and g[-1] < num_candidates):
      raise ValueError(f"gold ids of question {i} outside [0, "
                       f"{num_candidates}): {g[:5]}")
    rows += [i] * len(g)
    cols += g
  return sp.csr_matrix((np.ones(len(rows)), (rows, cols)),
                       shape=(len(gold), num_candidates))


def label_documents(sentence_f: sp.csr_matrix, sentence_len: np.ndarray,
                    question_f: sp.csr_matrix, question_len: np.ndarray,
                    gold: sp.csr_matrix, label_doc: str):
  """f_{w,X_m} [M, V] and S_m [M] (Eq. 1) of each candidate's label document X_m."""
  if label_doc == "sentence":
    return sentence_f, sentence_len.astype(np.float64)
  if label_doc != "questions":
    raise ValueError(f"label_doc must be one of {LABEL_DOCS}, got {label_doc!r}")
  by_gold = gold.T.tocsr()
  f_label = by_gold @ question_f
  s_label = by_gold @ question_len.astype(np.float64)
  no_question = np.diff(by_gold.indptr) == 0
  f_label = f_label + sp.diags(no_question.astype(np.float64)) @ sentence_f
  s_label = np.where(no_question, sentence_len, s_label)
  return f_label.tocsr(), s_label


def wlr_matrix(f_label: sp.csr_matrix, s_label: np.ndarray, method: str,
               k1: float, b: float) -> sp.csr_matrix:
  """WLR_{w,m} [M, V] (Eqs. 1-3) for every word of every label document."""
  wlc_fn, wlw_fn, _, _ = relevance.WEIGHTINGS[method]
  f_label = f_label.tocsr()
  f_label.eliminate_zeros()
  num_labels, vocab_size = f_label.shape
  label_df = np.bincount(f_label.indices, minlength=vocab_size)
  rows = np.repeat(np.arange(num_labels), np.diff(f_label.indptr))
  with _float64_on_cpu():
    wlc = wlc_fn(f_label.data, s_label[rows], k1, b,
                 s_avg=float(np.mean(s_label)) if num_labels else 0.0)
    wlw = wlw_fn(label_df.astype(np.float64), float(num_labels))
    data = np.asarray(wlw)[f_label.indices] * np.asarray(wlc)
  return sp.csr_matrix((data, f_label.indices, f_label.indptr),
                       shape=f_label.shape)


def wiw_vector(df: np.ndarray, num_instances: int, method: str) -> np.ndarray:
  """WIW_w [V] (Eq. 5) from document frequencies over `num_instances`."""
  with _float64_on_cpu():
    return np.asarray(relevance.WEIGHTINGS[method][3](
        np.asarray(df, np.float64), float(num_instances)))


def wir_entries(f: np.ndarray, wiw: np.ndarray, method: str,
                k2: float) -> np.ndarray:
  """WIR_{w,q} = WIW_w WIC_{w,q} (Eqs. 4, 6) for (query, word) entries."""
  with _float64_on_cpu():
    wic = relevance.WEIGHTINGS[method][2](np.asarray(f, np.float64), k2)
    return np.asarray(relevance.wir(np.asarray(wiw, np.float64), wic))


def ilr_matrix(wir: sp.csr_matrix, wlr: sp.csr_matrix,
               x_avg: float) -> np.ndarray:
  """ILR [Q, C] float64 (Eq. 7) of queries' WIR rows against candidates' WLR rows."""
  total = (wir @ wlr.T).toarray()
  return total / x_avg if x_avg > 0 else total


def soft_label(ilr: np.ndarray) -> np.ndarray:
  """Eq. 8 over the given candidates: softmax of each ILR row (max-subtracted)."""
  return scipy.special.softmax(ilr, axis=-1)


def _check_ids(ids: np.ndarray, size: int, what: str) -> np.ndarray:
  ids = np.asarray(ids)
  if ids.size and (not np.issubdtype(ids.dtype, np.integer)
                   or ids.min() < 0 or ids.max() >= size):
    raise ValueError(f"{what} must be integers in [0, {size})")
  return ids.astype(np.int64)


@dataclasses.dataclass
class CandidateSoftLabels:
  """Soft labels of training questions over candidates, built once per training set.

  `query_rows` index the training questions, `cand_ids` the candidates.
  `cand_ids` is [C] (the same candidates for every query of the batch) or
  [B, C] (each query its own); the output is [B, C] either way, one column
  per position (a repeated candidate is a repeated column).
  """

  method: str
  label_doc: str
  tokenizer: str
  k1: float
  b: float
  k2: float
  epsilon: float
  gold: sp.csr_matrix  # [N, M] hard labels
  wlr: sp.csr_matrix | None  # [M, V] Eq. 3 (None for classic)
  wir: sp.csr_matrix | None  # [N, V] Eq. 6
  df: np.ndarray | None  # [V] training questions containing w
  x_avg: float  # Eq. 7
  vocab_bytes: pa.Array | None  # [V] the words, UTF-8

  @classmethod
  def build(cls, method: str, candidates: list[str], train_questions: list[str],
            train_gold: list[list[int]], *, label_doc: str = "sentence",
            k1=2.0, b=0.75, k2=2.0, epsilon=0.1,
            tokenizer="word") -> "CandidateSoftLabels":
    """Counts, WLR (Eqs. 1-3) and WIR (Eqs. 4-6) of a training set."""
    if method not in METHODS:
      raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if label_doc not in LABEL_DOCS:
      raise ValueError(f"label_doc must be one of {LABEL_DOCS}, got "
                       f"{label_doc!r}")
    if len(train_gold) != len(train_questions):
      raise ValueError(f"{len(train_questions)} training questions but "
                       f"{len(train_gold)} gold lists")
    check_hyperparameters(k1, b, k2)
    classic.check_epsilon(epsilon)
    m, n = len(candidates), len(train_questions)
    gold = gold_matrix(train_gold, m)
    common = dict(method=method, label_doc=label_doc, tokenizer=tokenizer,
                  k1=k1, b=b, k2=k2, epsilon=epsilon, gold=gold)
    if method == "classic":
      return cls(wlr=None, wir=None, df=None, x_avg=0.0, vocab_bytes=None,
                 **common)
    if n == 0:
      raise ValueError(f"{method} needs at least one training question")
    counts = count_words(list(candidates) + list(train_questions), tokenizer)
    question_f = count_matrix(counts, m, m + n)
    question_len = counts.length[m:]
    f_label, s_label = label_documents(
        count_matrix(counts, 0, m), counts.length[:m], question_f,
        question_len, gold, label_doc)
    df = np.bincount(question_f.indices, minlength=counts.vocab_size)
    wiw = wiw_vector(df, n, method)
    wir = sp.csr_matrix(
        (wir_entries(question_f.data, wiw[question_f.indices], method, k2),
         question_f.indices, question_f.indptr), shape=question_f.shape)
    return cls(wlr=wlr_matrix(f_label, s_label, method, k1, b), wir=wir,
               df=df, x_avg=float(np.mean(question_len)),
               vocab_bytes=counts.vocab_bytes, **common)

  @property
  def num_candidates(self) -> int:
    return self.gold.shape[1]

  @property
  def num_questions(self) -> int:
    return self.gold.shape[0]

  def _gather(self, per_query, query_rows, cand_ids) -> np.ndarray:
    """per_query(rows, unique candidate ids) -> [B, U], laid out as cand_ids."""
    query_rows = _check_ids(query_rows, self.num_questions, "query_rows")
    cand_ids = _check_ids(cand_ids, self.num_candidates, "cand_ids")
    if query_rows.ndim != 1 or cand_ids.ndim not in (1, 2) or (
        cand_ids.ndim == 2 and len(cand_ids) != len(query_rows)):
      raise ValueError(f"query_rows must be [B] and cand_ids [C] or [B, C]; "
                       f"got {query_rows.shape} and {cand_ids.shape}")
    unique, inverse = np.unique(cand_ids, return_inverse=True)
    values = per_query(query_rows, unique)
    if cand_ids.ndim == 1:
      return values[:, inverse.reshape(-1)]
    return np.take_along_axis(values, inverse.reshape(cand_ids.shape), axis=1)

  def ilr(self, query_rows: np.ndarray, cand_ids: np.ndarray) -> np.ndarray:
    """ILR [B, C] float32 (Eq. 7) of training questions against candidates."""
    if self.method == "classic":
      raise ValueError("LS-Classic has no ILR")
    return self._gather(
        lambda q, c: ilr_matrix(self.wir[q], self.wlr[c], self.x_avg),
        query_rows, cand_ids).astype(np.float32)

  def targets(self, query_rows: np.ndarray, cand_ids: np.ndarray) -> np.ndarray:
    """Soft labels [B, C] float32, rows summing to 1, over each query's candidates."""
    if self.method == "classic":
      hard = self._gather(lambda q, c: self.gold[q][:, c].toarray(),
                          query_rows, cand_ids)
      return classic.classic_soft_labels(hard > 0, hard.shape[1], self.epsilon)
    ilr = self._gather(
        lambda q, c: ilr_matrix(self.wir[q], self.wlr[c], self.x_avg),
        query_rows, cand_ids)
    return soft_label(ilr).astype(np.float32)

  def query_wir(self, queries: Sequence[str]) -> sp.csr_matrix:
    """WIR [Q, V] of unseen queries: Eq. 5 over the training questions plus the query."""
    if self.method == "classic":
      raise ValueError("LS-Classic has no WIR")
    counts = count_words(list(queries), self.tokenizer)
    known = pc.index_in(counts.vocab_bytes, value_set=self.vocab_bytes)
    to_id = known.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    word = to_id[counts.word]
    keep = word >= 0
    row = np.repeat(np.arange(counts.num_docs), np.diff(counts.doc_ptr))[keep]
    word = word[keep]
    wiw = wiw_vector(self.df[word] + 1, self.num_questions + 1, self.method)
    data = wir_entries(counts.count[keep], wiw, self.method, self.k2)
    return sp.csr_matrix((data, (row, word)),
                         shape=(counts.num_docs, len(self.df)))


def zero_shot_ilr(labels: CandidateSoftLabels,
                  queries: Sequence[str]) -> np.ndarray:
  """ILR [Q, M] float32 (Eq. 7) of unseen queries against every candidate."""
  return ilr_matrix(labels.query_wir(queries), labels.wlr,
                    labels.x_avg).astype(np.float32)


def zero_shot_ranks(labels: CandidateSoftLabels, queries: Sequence[str],
                    gold: Sequence[Sequence[int]],
                    chunk: int = CHUNK) -> np.ndarray:
  """Best gold rank [Q] of each query among all candidates by zero-shot ILR."""
  if len(gold) != len(queries):
    raise ValueError(f"{len(queries)} queries but {len(gold)} gold lists")
  wir = labels.query_wir(queries)
  return np.concatenate([
      ranking.gold_ranks(ilr_matrix(wir[i:i + chunk], labels.wlr, labels.x_avg),
                         gold[i:i + chunk])
      for i in range(0, len(queries), chunk)] or [np.zeros(0)])
