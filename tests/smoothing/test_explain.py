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


def test_label_agreement_by_hand():
  soft = np.array([[.8, .2, 0], [.6, .4, 0], [.3, .7, 0], [.45, .55, 0]])
  a = explain.label_agreement(soft, np.array([0, 0, 0, 1]), 3)
  np.testing.assert_array_equal(a.rows, [3, 1, 0])
  np.testing.assert_allclose(a.mean_own[:2], [(.8 + .6 + .3) / 3, .55])
  np.testing.assert_allclose(a.mean_other, [.45, (.2 + .4 + .7) / 3, 0])
  np.testing.assert_allclose(a.agree[:2], [2 / 3, 1])
  text = explain.format_agreement(a, ["neg", "pos", "none"])
  assert "66.67%" in text and "100.00%" in text
  assert text.splitlines()[3].split() == ["none", "0", "-", "0.0000", "-"]


def test_label_agreement_multi_hot_counts_any_own_label():
  soft = np.array([[.3, .7], [.9, .1]])
  a = explain.label_agreement(soft, np.array([[1, 1], [0, 1]]), 2)
  np.testing.assert_array_equal(a.rows, [1, 2])
  np.testing.assert_allclose(a.mean_own, [.3, .4])
  np.testing.assert_allclose(a.mean_other, [.9, np.nan])
  np.testing.assert_allclose(a.agree, [1, .5])


def test_label_agreement_matches_a_loop(corpus):
  res, _ = _result(corpus)
  texts, labels, p = corpus(2000)
  a = explain.label_agreement(res.soft_labels, labels, p)
  for m in range(p):
    mine = [i for i in range(len(labels)) if labels[i] == m]
    assert a.rows[m] == len(mine)
    assert np.isclose(a.mean_own[m],
                      sum(float(res.soft_labels[i][m]) for i in mine) / len(mine))
    others = [i for i in range(len(labels)) if labels[i] != m]
    assert np.isclose(a.mean_other[m], sum(
        float(res.soft_labels[i][m]) for i in others) / len(others))
    agree = sum(int(np.argmax(res.soft_labels[i]) == m) for i in mine)
    assert np.isclose(a.agree[m], agree / len(mine))
