"""The jitted engine against the literal loop-by-loop Eqs. 1-8 (reference_kwls)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import kwls_jax
from kwls_jax.smoothing import api, engine, tokenize
import _data
from reference_kwls import reference_ilr, reference_soft_labels, reference_wlr

TOL = 1e-5  # float32 soft labels vs the float64 reference
METHODS = ("kwls", "tfidf")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("tokenizer", tokenize.TOKENIZERS)
def test_matches_reference(corpus, method, tokenizer):
  texts, labels, p = corpus()  # AG News: all 7,600 rows
  got = kwls_jax.soft_labels(texts, labels, p, method=method,
                             tokenizer=tokenizer)
  want = reference_soft_labels(texts, labels, method, tokenizer)
  assert got.dtype == np.float32 and got.shape == (len(texts), p)
  np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-6)
  assert np.abs(got - want).max() <= TOL


@pytest.fixture(params=["synthetic", "imdb"])
def binary_corpus(request):
  if request.param == "synthetic":
    return _data.synthetic(1500, num_labels=2, seed=1)
  return _data.load(request.getfixturevalue("shared_datasets") / "imdb" /
                    "train.jsonl.gz", limit=1500, stride=16)


@pytest.mark.parametrize("method", METHODS)
def test_two_labels_match_reference(binary_corpus, method):
  texts, labels, p = binary_corpus
  assert set(labels.tolist()) == {0, 1}
  got = kwls_jax.soft_labels(texts, labels, p, method=method,
                             tokenizer="whitespace")
  want = reference_soft_labels(texts, labels, method, "whitespace")
  assert np.abs(got - want).max() <= TOL


def test_ilr_and_wlr_match_reference(corpus):
  texts, labels, p = corpus(1000)
  res = api.compute_soft_labels(texts, labels, p, k1=1.2, b=0.3, k2=0.9)
  want_ilr = reference_ilr(texts, labels, k1=1.2, b=0.3, k2=0.9)
  np.testing.assert_allclose(res.ilr, want_ilr, rtol=2e-6, atol=2e-6)
  want_wlr = reference_wlr(texts, labels, k1=1.2, b=0.3)
  vocab = res.counts.vocab()
  assert set(vocab) == set(want_wlr)
  got_wlr = {w: res.wlr[j] for j, w in enumerate(vocab)}
  worst = max(np.abs(got_wlr[w] - want_wlr[w]).max() for w in vocab)
  assert worst <= 2e-6


@pytest.mark.parametrize("method", METHODS)
def test_multi_label_matches_reference(corpus, method):
  texts, labels, p = corpus(1200)
  multi_hot = np.eye(p, dtype=bool)[labels]
  multi_hot[::3, (labels[::3] + 1) % p] = True  # a second label
  multi_hot[5::50] = False  # and a few instances in no X_m at all
  got = kwls_jax.soft_labels(texts, multi_hot, p, method=method)
  want = reference_soft_labels(texts, multi_hot, method)
  assert np.abs(got - want).max() <= TOL
  # Not the same as dropping the second labels.
  single = kwls_jax.soft_labels(texts, labels, p, method=method)
  assert np.abs(got - single).max() > 1e-3


def test_chunking_does_not_change_results(corpus):
  texts, labels, p = corpus(2000)
  counts = tokenize.count_words(texts)
  whole = engine.compute(counts, labels, p)
  chunked = engine.compute(counts, labels, p, max_chunk_pairs=1024)
  assert len(engine.plan_chunks(counts.doc_ptr, 1024)) > 20
  np.testing.assert_allclose(chunked.ilr, whole.ilr, rtol=1e-6, atol=1e-6)


def test_float64_with_x64(corpus):
  texts, labels, p = corpus(800)
  want = reference_soft_labels(texts, labels)
  jax.config.update("jax_enable_x64", True)
  try:
    got = api.compute_soft_labels(texts, labels, p).soft_labels
  finally:
    jax.config.update("jax_enable_x64", False)
  assert got.dtype == np.float64
  assert np.abs(got - want).max() <= 1e-12


def test_long_document_does_not_overflow():
  # One document far longer than X_avg gets ILR in the thousands; a naive
  # exp() overflows float32 there (the authors' script does).
  words = [f"w{j}" for j in range(5000)]
  texts = ["a b"] * 200 + [" ".join(words * 3)] + ["c d"] * 200
  labels = np.array([0] * 200 + [1] + [2] * 200)
  res = api.compute_soft_labels(texts, labels, 3)
  assert res.ilr[200].max() > 1000
  want = reference_soft_labels(texts, labels)
  assert np.isfinite(res.soft_labels).all()
  assert np.abs(res.soft_labels - want).max() <= TOL
  assert res.soft_labels[200, 1] == pytest.approx(1.0)


def test_empty_texts_get_uniform_labels():
  texts = ["", "apple banana", "", "cherry apple"]
  got = kwls_jax.soft_labels(texts, [0, 1, 2, 1], 3)
  np.testing.assert_allclose(got[[0, 2]], 1 / 3, atol=1e-7)
  np.testing.assert_allclose(got, reference_soft_labels(texts, [0, 1, 2, 1]),
                             atol=TOL)
  all_empty = kwls_jax.soft_labels(["", " ", "\n"], [0, 1, 1], 2)
  np.testing.assert_allclose(all_empty, 0.5)


def test_soft_labels_favour_the_hard_label(corpus):
  texts, labels, p = corpus()
  got = kwls_jax.soft_labels(texts, labels, p)
  assert (got.argmax(1) == labels).mean() > 0.9
  assert got.max(1).mean() < 0.99  # soft: mass left for the other labels


def test_hyperparameters_are_not_recompiled(corpus):
  texts, labels, p = corpus(300)
  counts = tokenize.count_words(texts)
  engine.compute(counts, labels, p)
  before = engine.chunk_soft_labels._cache_size()
  for k2 in (0.5, 1.0, 3.0):
    engine.compute(counts, labels, p, k1=k2 + 1, b=0.5, k2=k2)
  assert engine.chunk_soft_labels._cache_size() == before


@pytest.mark.parametrize("labels,num_labels,match", [
    ([0, 3], 3, "label ids must lie in"),
    ([0, -1], 3, "label ids must lie in"),
    (np.zeros((2, 2), bool), 3, "multi-hot labels must be"),
    ([0], 3, "2 texts but 1 labels"),
])
def test_bad_labels(labels, num_labels, match):
  with pytest.raises(ValueError, match=match):
    kwls_jax.soft_labels(["a", "b"], labels, num_labels)


def test_unknown_method():
  with pytest.raises(ValueError, match="method must be one of"):
    kwls_jax.soft_labels(["a"], [0], 1, method="bm25")


def test_label_stats_streamed_equals_whole(corpus):
  texts, labels, p = corpus(2000)
  counts = tokenize.count_words(texts)
  multi_hot = np.eye(p, dtype=bool)[labels]
  multi_hot[::4, (labels[::4] + 2) % p] = True
  for lab in (labels, multi_hot):
    whole = engine.label_stats(counts, lab, p, max_pairs=1 << 30)
    parts = engine.label_stats(counts, lab, p, max_pairs=500)
    np.testing.assert_array_equal(parts.f_label, whole.f_label)
    np.testing.assert_array_equal(parts.s_label, whole.s_label)
    # Eq. 1's S_m: the tokens of the instances of label m.
    np.testing.assert_array_equal(
        whole.s_label, (multi_hot if lab is multi_hot else np.eye(p)[labels]
                        ).T.astype(float) @ counts.length)
