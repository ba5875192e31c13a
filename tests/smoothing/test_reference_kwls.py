"""Hand-computed checks of the literal KWLS reference (paper Eqs. 1-8)."""

import importlib.util
import json
import math
import pathlib
import sys

import numpy as np
import pytest

import _data

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _load(path: pathlib.Path, name: str):
  """Imports a module from a file path (tests/ and benchmarks/ are not packages)."""
  if name in sys.modules:
    return sys.modules[name]
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module
  spec.loader.exec_module(module)
  return module


ref = _load(HERE / "reference_kwls.py", "reference_kwls")

# Toy corpus, `word` tokenizer, P = 3. Instance 2 has labels {0, 1}.
#   x_0 = [good, good, movie]  -> label 0       |x_0| = 3
#   x_1 = [bad, movie]         -> label 2       |x_1| = 2
#   x_2 = [good, plot]         -> labels 0, 1   |x_2| = 2
TEXTS = ["Good good movie", "Bad movie!", "good, plot"]
MULTI_HOT = np.array([[1, 0, 0], [0, 0, 1], [1, 1, 0]], dtype=bool)
K1, B, K2 = 2.0, 0.75, 2.0
N, P = 3, 3


def _expected_toy():
  """WLR, WIR and ILR of the toy corpus, every term written out by hand."""
  # Eq. 1: X_0 = {x_0, x_2}, X_1 = {x_2}, X_2 = {x_1}.
  s = [3 + 2, 2, 2]
  s_avg = (5 + 2 + 2) / 3
  big_k = [K1 * (1 - B + B * s_m / s_avg) for s_m in s]
  f_label = {  # f_{w, X_m}
      "good": [2 + 1, 1, 0],
      "movie": [1, 0, 1],
      "plot": [1, 1, 0],
      "bad": [0, 0, 1],
  }
  # Eq. 2: good in {0,1}, movie in {0,2}, plot in {0,1}, bad in {2}.
  wlw = {"good": math.log(3 / 2) + 1, "movie": math.log(3 / 2) + 1,
         "plot": math.log(3 / 2) + 1, "bad": math.log(3 / 1) + 1}
  # Eq. 3.
  wlr = {w: [wlw[w] * (f * K1 / (f + big_k[m]) if f else 0.0)
             for m, f in enumerate(f_label[w])] for w in f_label}
  # Eqs. 4-6: df good = 2, movie = 2, plot = 1, bad = 1.
  wiw = {"good": math.log(3 / 2) + 1, "movie": math.log(3 / 2) + 1,
         "plot": math.log(3 / 1) + 1, "bad": math.log(3 / 1) + 1}
  f_inst = [{"good": 2, "movie": 1}, {"bad": 1, "movie": 1},
            {"good": 1, "plot": 1}]
  wir = [{w: wiw[w] * (f * K2 / (f + K2)) for w, f in c.items()}
         for c in f_inst]
  # Eq. 7: X_avg = (3 + 2 + 2) / 3.
  x_avg = 7 / 3
  ilr = np.array([[sum(wlr[w][m] * wir[i][w] for w in wir[i]) / x_avg
                   for m in range(P)] for i in range(N)])
  return wlr, wir, ilr


def test_equation_functions():
  assert ref.wlc(0, 5, 3) == 0.0
  assert ref.wlc(3, 5, 3) == pytest.approx(3 * 2 / (3 + 2 * (0.25 + 0.75 * 5 / 3)))
  assert ref.wlc(3, 5, 3, method="tfidf") == 3.0
  assert ref.wlw(3, 1) == pytest.approx(math.log(3) + 1)
  assert ref.wlw(3, 1, method="tfidf") == pytest.approx(math.log(3))
  assert ref.wic(2, 2.0) == pytest.approx(1.0)
  assert ref.wic(2, 2.0, method="tfidf") == 2.0
  assert ref.wiw(3, 3) == pytest.approx(1.0)
  assert ref.wiw(3, 3, method="tfidf") == 0.0
  assert ref.soft_label([1000.0, 1000.0]) == [0.5, 0.5]  # stable


def test_wlr_matches_hand_computation():
  wlr, _, _ = _expected_toy()
  got = ref.reference_wlr(TEXTS, MULTI_HOT, k1=K1, b=B)
  assert set(got) == set(wlr)
  for w in wlr:
    np.testing.assert_allclose(got[w], wlr[w], rtol=1e-15, atol=0)


def test_ilr_and_soft_labels_match_hand_computation():
  _, _, ilr = _expected_toy()
  np.testing.assert_allclose(ref.reference_ilr(TEXTS, MULTI_HOT), ilr,
                             rtol=1e-14, atol=0)
  d = np.exp(ilr - ilr.max(1, keepdims=True))
  d /= d.sum(1, keepdims=True)
  got = ref.reference_soft_labels(TEXTS, MULTI_HOT)
  assert got.dtype == np.float64 and got.shape == (N, P)
  np.testing.assert_allclose(got, d, rtol=1e-14, atol=0)
  np.testing.assert_allclose(got.sum(1), 1.0, rtol=0, atol=1e-15)


def test_multi_label_instance_counted_in_both_labels():
  got = ref.reference_wlr(TEXTS, MULTI_HOT)
  # X_1 = {x_2} alone: f_{good,X_1} = 1, S_1 = 2, S_avg = 3.
  k_1 = 2 * (1 - 0.75 + 0.75 * 2 / 3)
  assert got["good"][1] == pytest.approx((math.log(3 / 2) + 1) * 2 / (1 + k_1))
  # x_2's words also count in X_0: f_{good,X_0} = 2 + 1.
  k_0 = 2 * (1 - 0.75 + 0.75 * 5 / 3)
  assert got["good"][0] == pytest.approx((math.log(3 / 2) + 1) * 3 * 2 / (3 + k_0))
  assert got["plot"][0] > 0 and got["plot"][1] > 0 and got["plot"][2] == 0
  # Dropping label 1 from x_2 makes "plot" a label-0-only word: WLW grows.
  single = MULTI_HOT.copy()
  single[2, 1] = False
  assert ref.reference_wlr(TEXTS, single)["plot"][0] > got["plot"][0]


def test_tfidf_variant_by_hand():
  # LS-TFIDF: WLC = f, WLW = log(P/#labels), WIC = f, WIW = log(N/df).
  got = ref.reference_ilr(TEXTS, MULTI_HOT, method="tfidf")
  wlr_bad_2 = math.log(3 / 1) * 1
  wlr_movie_2 = math.log(3 / 2) * 1
  wir_bad_1 = math.log(3 / 1) * 1
  wir_movie_1 = math.log(3 / 2) * 1
  assert got[1, 2] == pytest.approx(
      (wlr_bad_2 * wir_bad_1 + wlr_movie_2 * wir_movie_1) / (7 / 3))
  assert got[1, 1] == 0.0


def test_whitespace_tokenizer_keeps_case_and_punctuation():
  assert ref.tokenize("Good good  movie!\n", "whitespace") == [
      "Good", "good", "movie!"]
  assert ref.tokenize("Good good  movie!\n", "word") == ["good", "good", "movie"]
  got = ref.reference_wlr(TEXTS, MULTI_HOT, tokenizer="whitespace")
  assert set(got) == {"Good", "good", "movie", "Bad", "movie!", "good,", "plot"}


def test_rows_sum_to_one_and_empty_text_is_uniform():
  texts = TEXTS + ["", "!!! ..."]
  labels = np.vstack([MULTI_HOT, [[0, 1, 0], [0, 0, 1]]])
  d = ref.reference_soft_labels(texts, labels)
  np.testing.assert_allclose(d.sum(1), 1.0, rtol=0, atol=1e-15)
  np.testing.assert_array_equal(d[3], np.full(3, 1 / 3))
  np.testing.assert_array_equal(d[4], np.full(3, 1 / 3))
  assert not np.allclose(d[0], 1 / 3)


def test_all_texts_empty_gives_uniform():
  d = ref.reference_soft_labels(["", " "], np.array([0, 1]))
  np.testing.assert_array_equal(d, np.full((2, 2), 0.5))


@pytest.fixture(params=["synthetic", "imdb"])
def sample(request):
  """300 texts and int labels: synthetic, or drawn from IMDb train."""
  if request.param == "synthetic":
    texts, labels, _ = _data.synthetic(300, num_labels=2, seed=2)
    return list(texts), labels
  path = request.getfixturevalue("shared_datasets") / "imdb" / "train.jsonl.gz"
  texts, labels, _ = _data.load(path)
  idx = np.sort(np.random.default_rng(0).choice(len(texts), 300, replace=False))
  return [texts[i] for i in idx], labels[idx]


@pytest.mark.parametrize("tokenizer", ["word", "whitespace"])
def test_baselines_agree_with_reference(sample, tokenizer, tmp_path):
  authors = _load(ROOT / "benchmarks/baselines/authors_loop.py", "bl_authors_loop")
  scipy_bl = _load(ROOT / "benchmarks/baselines/scipy_sparse.py", "bl_scipy_sparse")
  texts, labels = sample
  assert len(set(labels.tolist())) == 2
  want = ref.reference_soft_labels(texts, labels, tokenizer=tokenizer)
  for module in (authors, scipy_bl):
    got = module.soft_labels(texts, labels.tolist(), tokenizer=tokenizer)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
  # The CLI path: jsonl in, float32 .npy out, rows in input order.
  src = tmp_path / "in.jsonl"
  src.write_text("".join(json.dumps({"text": t, "label": int(l)}) + "\n"
                         for t, l in zip(texts, labels)))
  for module in (authors, scipy_bl):
    out = tmp_path / f"{module.__name__}.npy"
    module.main([str(src), "--out", str(out), "--tokenizer", tokenizer])
    got = np.load(out)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
