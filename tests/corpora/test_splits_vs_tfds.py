"""Our split slicing equals tfds' own ReadInstruction, for many specs and sizes."""

import itertools

import numpy as np
import pytest

from kwls_jax.corpora import CorpusError
from kwls_jax.corpora.splits import parse_split
from kwls_jax.corpora.splits import slice_indices

tfds = pytest.importorskip("tensorflow_datasets")

SIZES = [0, 1, 2, 3, 5, 7, 9, 11, 13, 99, 101, 199, 333, 7600, 25000]
BOUNDS = ["", "0", "1", "-1", "3", "-3", "100", "1000", "-1000", "7600",
          "-7600", "25001", "0%", "1%", "-1%", "5%", "10%", "-10%", "12.5%",
          "25%", "33%", "33.3%", "37.5%", "50%", "-50%", "62.5%", "66.5%",
          "75%", "87.5%", "99%", "99.5%", "-99.5%", "100%", "-100%", "0.5%"]


def _tfds_rows(spec, sizes):
  """[(split, row indices)] as tfds reads them for `spec`."""
  infos = {name: tfds.core.SplitInfo(name=name, shard_lengths=[n], num_bytes=0)
           for name, n in sizes.items()}
  out = []
  for ins in tfds.core.ReadInstruction.from_spec(spec).to_absolute(infos):
    n = sizes[ins.splitname]
    start = ins.from_ or 0
    stop = n if ins.to is None else ins.to
    out.append((ins.splitname, np.arange(n)[start:stop]))
  return out


def _our_rows(spec, sizes):
  return [(p.split_name, slice_indices(p, sizes[p.split_name]))
          for p in parse_split(spec)]


def _same(spec, sizes):
  """Both raise, or both give the same rows; returns True if rows compared."""
  try:
    want = _tfds_rows(spec, sizes)
  except (ValueError, NotImplementedError):
    with pytest.raises(CorpusError):
      _our_rows(spec, sizes)
    return False
  got = _our_rows(spec, sizes)
  assert [s for s, _ in got] == [s for s, _ in want], spec
  for (_, g), (_, w) in zip(got, want):
    np.testing.assert_array_equal(g, w, err_msg=f"{spec} with {sizes}")
  return True


@pytest.mark.parametrize("n", SIZES)
def test_single_slices_match_tfds(n):
  compared = sum(_same(f"train[{a}:{b}]", {"train": n})
                 for a, b in itertools.product(BOUNDS, BOUNDS))
  assert compared > len(BOUNDS) ** 2 // 4  # Most specs are valid ones.


@pytest.mark.parametrize("spec", [
    "train", "test", "test[:75%]", "train[10%:]", "train[:1000]",
    "train[-500:]", "train[10%:20%]", "train+test[:10%]",
    "train[:33%]+train[33%:66%]+train[66%:]", "test[-12.5%:] + train[:7]",
    "train[1_0:2_0]", "train[:1.5]", "train[5]", "train[:-0.5%]",
])
@pytest.mark.parametrize("sizes", [
    {"train": 25000, "test": 7600}, {"train": 13, "test": 7},
    {"train": 7, "test": 25000},
])
def test_specs_match_tfds(spec, sizes):
  _same(spec, sizes)


def test_known_tfds_values():
  # A few values from tfds itself, so the comparison is not vacuous.
  rows = dict(_tfds_rows("test[:75%]", {"test": 7600}))
  assert len(rows["test"]) == 5700
  assert len(_our_rows("train[:50%]", {"train": 5})[0][1]) == 2
