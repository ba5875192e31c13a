"""Batches: seeded order, resumable, every row exactly once, padded + masked."""

from __future__ import annotations

import numpy as np

from kwls_jax.training import data


def _split(n=37, t=5):
  ids = np.arange(n * t, dtype=np.int32).reshape(n, t)
  return data.Split(ids, np.ones_like(ids), np.arange(n, dtype=np.int32) % 3)


def _rows(batches):
  """Row ids of the real (unmasked) rows; row i starts with token 5 i."""
  return np.concatenate([b["input_ids"][b["mask"] > 0, 0] // 5
                         for b in batches])


def test_train_epoch_covers_every_row_once_and_reshuffles():
  s, soft = _split(), np.full((37, 3), 1 / 3, np.float32)
  e0 = list(data.train_batches(s, soft, 8, seed=1, epoch=0))
  e1 = list(data.train_batches(s, soft, 8, seed=1, epoch=1))
  assert len(e0) == data.steps_per_epoch(37, 8) == 5
  assert sorted(_rows(e0)) == list(range(37))
  assert not np.array_equal(_rows(e0), _rows(e1))
  assert e0[-1]["mask"].sum() == 5 and e0[-1]["input_ids"].shape == (8, 5)
  assert all(b["soft_labels"].shape == (8, 3) for b in e0)


def test_order_is_deterministic_and_resumable():
  s, soft = _split(), np.zeros((37, 3), np.float32)
  a = list(data.train_batches(s, soft, 8, seed=3, epoch=2))
  b = list(data.train_batches(s, soft, 8, seed=3, epoch=2, start_step=2))
  assert all(np.array_equal(x["input_ids"], y["input_ids"])
             for x, y in zip(a[2:], b))
  c = list(data.train_batches(s, soft, 8, seed=4, epoch=2))
  assert not np.array_equal(_rows(a), _rows(c))


def test_eval_batches_keep_order_and_mask_padding():
  batches = list(data.eval_batches(_split(), 16))
  assert [int(b["mask"].sum()) for b in batches] == [16, 16, 5]
  assert list(_rows(batches)) == list(range(37))


def test_dict_spec_is_the_stratified_fold(corpus_dir):
  from kwls_jax.corpora import subsets  # pylint: disable=g-import-not-at-top
  folder = corpus_dir
  spec = {"path": str(folder / "train.jsonl"), "fold": 1, "seed": 2}
  train = data.load_split({**spec, "part": "train"})
  dev = data.load_split({**spec, "part": "dev"})
  whole = data.load_split(str(folder / "train.jsonl"))
  tr, dv = subsets.train_dev(whole.labels, fold=1, k=4, seed=2)
  assert train.texts == [whole.texts[i] for i in tr]
  assert dev.texts == [whole.texts[i] for i in dv]
  assert len(train) + len(dev) == len(whole) and len(train) == 3 * len(dev)
