"""Explanations decompose ILR exactly and rank keywords by WLR."""

import numpy as np

from kwls_jax.smoothing import api, explain, tokenize


def _result(corpus, method="kwls"):
  texts, labels, p = corpus(2000)
  return api.compute_soft_labels(texts, labels, p, method=method), texts


def test_contributions_sum_to_ilr(corpus):
  for method in ("kwls", "tfidf"):
    res, texts = _result(corpus, method)
    for i in (0, 7, 17, 1999):
      wc = explain.word_contributions(res, i)
      scale = max(1.0, np.abs(res.ilr[i]).max())
      np.testing.assert_allclose(wc.contributions.sum(0) / scale,
                                 res.ilr[i] / scale, atol=2e-6)
      # exactly the distinct words of the text
      assert sorted(wc.words) == sorted(
          set(tokenize.reference_tokenize(texts[i], "word")))
      np.testing.assert_allclose(wc.soft_label, res.soft_labels[i])


def test_top_keywords_are_the_largest_wlr(corpus):
  res, _ = _result(corpus)
  vocab = res.counts.vocab()
  top = explain.top_keywords(res, 7, vocab)
  assert len(top) == 4
  for m, words in enumerate(top):
    values = [v for _, v in words]
    assert values == sorted(values, reverse=True) and len(values) == 7
    assert values[0] == res.wlr[:, m].max()
    assert values[-1] >= np.sort(res.wlr[:, m])[-7]
    assert all(res.wlr[vocab.index(w), m] == v for w, v in words)


def test_formatting_names_labels(corpus):
  res, _ = _result(corpus)
  names = ["World", "Sports", "Business", "Sci/Tech"]
  text = explain.format_keywords(explain.top_keywords(res, 3), names)
  assert all(f"{n}:" in text for n in names)
  text = explain.format_contributions(explain.word_contributions(res, 0),
                                      names, top=3)
  assert text.count("soft label") == 4
