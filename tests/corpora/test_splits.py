"""Split specs: parsing, rounding and errors (no tfds needed)."""

import subprocess
import sys

import numpy as np
import pytest

from kwls_jax.corpora import CorpusError
from kwls_jax.corpora import parse_split
from kwls_jax.corpora.splits import format_split
from kwls_jax.corpora.splits import slice_indices
from kwls_jax.corpora.splits import SplitPart


@pytest.mark.parametrize("spec,parts", [
    ("train", [("train", None, None, "abs")]),
    ("test[:75%]", [("test", None, 75.0, "%")]),
    ("train[10%:]", [("train", 10.0, None, "%")]),
    ("train[:1000]", [("train", None, 1000, "abs")]),
    ("train[-500:]", [("train", -500, None, "abs")]),
    ("train[10%:20%]", [("train", 10.0, 20.0, "%")]),
    ("train[10:20%]", [("train", 10.0, 20.0, "%")]),
    ("train[2shard]", [("train", 2, 3, "shard")]),
    ("train+test[:10%]", [("train", None, None, "abs"),
                          ("test", None, 10.0, "%")]),
    ("train[:1_000] + test", [("train", None, 1000, "abs"),
                              ("test", None, None, "abs")]),
    ("validation-x[33.5%:]", [("validation-x", 33.5, None, "%")]),
])
def test_parse_split(spec, parts):
  assert parse_split(spec) == [SplitPart(*p) for p in parts]
  assert parse_split(format_split(parse_split(spec))) == parse_split(spec)


@pytest.mark.parametrize("spec", [
    "", "train+", "+test", "train[]", "train[:]", "train[5]", "train[5%]",
    "train[1:2:3]", "train[a:]", "train[1.5:]", "train[:101%]",
    "train[-100.5%:]", "train[.:]", "tr ain", "train[:10", "all[:10%]",
    "train[10%:1000]",
])
def test_malformed_specs_raise(spec):
  with pytest.raises(CorpusError, match="bad split"):
    parse_split(spec)


def test_error_is_a_value_error():
  with pytest.raises(ValueError):
    parse_split("train[")
  with pytest.raises(CorpusError, match="must be a string"):
    parse_split(None)


@pytest.mark.parametrize("spec,n,expected", [
    ("test[:75%]", 7600, np.arange(5700)),
    ("train[-500:]", 25000, np.arange(24500, 25000)),
    ("train[10%:20%]", 25000, np.arange(2500, 5000)),
    ("train[:1000]", 7600, np.arange(1000)),
    ("train[5:3]", 10, np.arange(0)),
    ("train[-3:-1]", 10, np.array([7, 8])),
    ("train[:-10%]", 25, np.arange(23)),  # -2.5 rounds to even: -2.
    ("train[:10%]", 5, np.arange(0)),  # 0.5 -> 0.
    ("train[:30%]", 5, np.arange(2)),  # 1.5 -> 2.
    ("train[:50%]", 5, np.arange(2)),  # 2.5 -> 2.
    ("train[:70%]", 5, np.arange(4)),  # 3.5 -> 4.
    ("train[33%:66%]", 7, np.arange(2, 5)),  # 2.31 -> 2, 4.62 -> 5.
    ("train[:100%]", 0, np.arange(0)),
])
def test_slice_indices(spec, n, expected):
  got = slice_indices(spec, n)
  assert got.dtype == np.int64
  np.testing.assert_array_equal(got, expected)


def test_percent_slices_partition_the_split():
  for n in (7, 101, 7600, 25000):
    pieces = [slice_indices(f"train[{a}%:{a + 10}%]", n) for a in range(0, 100, 10)]
    np.testing.assert_array_equal(np.concatenate(pieces), np.arange(n))


@pytest.mark.parametrize("spec,n", [
    ("train[:1001]", 1000), ("train[-1001:]", 1000), ("train[2shard]", 10),
])
def test_slice_errors(spec, n):
  with pytest.raises(CorpusError):
    slice_indices(spec, n)


def test_slice_indices_takes_one_term():
  with pytest.raises(CorpusError, match="one term"):
    slice_indices("train+test", 5)


def test_importing_corpora_does_not_import_tensorflow():
  code = ("import sys, kwls_jax.corpora, kwls_jax.corpora.splits, "
          "kwls_jax.corpora.registry; print(sorted(m for m in sys.modules "
          "if m.split('.')[0] in ('tensorflow', 'tensorflow_datasets')))")
  out = subprocess.run([sys.executable, "-c", code], check=True,
                       capture_output=True, text=True).stdout
  assert out.strip() == "[]"
