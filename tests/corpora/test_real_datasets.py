"""The real data in shared/datasets: counts from its README, and loading.

Reading speed is measured by benchmarks/read_jsonl.py.
"""

import numpy as np
import pytest

from kwls_jax.corpora import load_corpus
from kwls_jax.corpora import load_rows
from kwls_jax.corpora import read_jsonl
from kwls_jax.corpora.jsonl import iter_jsonl_rows


def test_ag_news_test(shared_datasets):
  c = read_jsonl(shared_datasets / "ag_news" / "test.jsonl.gz")
  assert len(c) == 7600
  assert c.label_names == ["World", "Sports", "Business", "Sci/Tech"]
  np.testing.assert_array_equal(np.bincount(c.labels), [1900] * 4)
  rows = [r for _, r in iter_jsonl_rows(shared_datasets / "ag_news" / "test.jsonl.gz")]
  assert all(r["text"] == r["title"] + " " + r["description"] for r in rows)
  assert c.texts[0].startswith("Fears for T N pension after talks Unions")


@pytest.mark.parametrize("split,distinct", [("train", 24904), ("test", 24801)])
def test_imdb(shared_datasets, split, distinct):
  c = read_jsonl(shared_datasets / "imdb" / f"{split}.jsonl.gz")
  assert len(c) == 25000
  assert c.label_names == ["neg", "pos"]
  np.testing.assert_array_equal(np.bincount(c.labels), [12500, 12500])
  assert len(set(c.texts)) == distinct
  assert any("\x85" in t for t in c.texts)  # Stray cp1252 chars are kept.


def test_squad_dev_rows(shared_datasets):
  rows = load_rows("squad", "dev", data_dir=shared_datasets)
  assert len(rows) == 10570
  assert len({r["title"] for r in rows}) == 48
  assert len({(r["title"], r["context"]) for r in rows}) == 2067
  for r in rows:
    start, answer = r["answer_start"], r["answer_text"]
    assert r["context"][start:start + len(answer)] == answer
  # tfds calls this split "validation"; the local file is dev.jsonl.gz.
  assert load_rows("squad", "validation[:5]", data_dir=shared_datasets) == rows[:5]


def test_load_corpus_slices_local_files(shared_datasets):
  c = load_corpus("ag_news", "test[:75%]", data_dir=shared_datasets)
  assert len(c) == 5700
  assert c.source == f"local:{shared_datasets / 'ag_news' / 'test.jsonl.gz'}"
  full = read_jsonl(shared_datasets / "ag_news" / "test.jsonl.gz")
  assert c.texts == full.texts[:5700]
  both = load_corpus("imdb", "train[:10]+test[-10:]", data_dir=shared_datasets)
  assert len(both) == 20
  np.testing.assert_array_equal(both.labels, [0] * 10 + [1] * 10)


def test_kwls_data_dir_env_points_at_shared(shared_datasets, monkeypatch):
  monkeypatch.setenv("KWLS_DATA_DIR", str(shared_datasets))
  c = load_corpus("imdb", "test[-1%:]")
  assert len(c) == 250 and c.source.startswith("local:")
