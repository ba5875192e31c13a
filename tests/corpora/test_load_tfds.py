"""The tfds path of load_corpus, with tfds.testing.mock_data (no download)."""

import numpy as np
import pytest

from kwls_jax.corpora import load_corpus
from kwls_jax.corpora import load_rows
from kwls_jax.corpora import offline

tfds = pytest.importorskip("tensorflow_datasets")
tf = pytest.importorskip("tensorflow")


@pytest.fixture
def probes(monkeypatch):
  """Records reachability checks instead of opening sockets."""
  calls = []
  monkeypatch.setattr(offline, "unreachable",
                      lambda urls, timeout: calls.append(sorted(urls)) or [])
  return calls


def _examples_fn(examples, seen_splits):
  """An `as_dataset_fn` for mock_data yielding fixed examples."""
  def as_dataset(self, split, **kwargs):
    del kwargs
    seen_splits.append(str(split))
    feats = self.info.features
    return tf.data.Dataset.from_generator(
        lambda: iter(examples),
        output_signature={k: tf.TensorSpec(shape=feats[k].shape,
                                           dtype=feats[k].tf_dtype)
                          for k in examples[0]})
  return as_dataset


def test_imdb_random_mock(tmp_path, probes):
  with tfds.testing.mock_data(num_examples=7):
    c = load_corpus("imdb", "train", data_dir=tmp_path)
  assert len(c) == 7
  assert c.source == "tfds:imdb_reviews" and c.split == "train"
  assert c.label_names == ["neg", "pos"]
  assert c.labels.dtype == np.int64 and set(c.labels) <= {0, 1}
  assert all(isinstance(t, str) for t in c.texts)
  assert probes == [["http://ai.stanford.edu/~amaas/data/sentiment/"
                     "aclImdb_v1.tar.gz"]]


def test_ag_news_text_is_title_space_description(tmp_path, probes):
  examples = [{"title": "T\u00e9 1", "description": "d one", "label": 3},
              {"title": "T2", "description": "", "label": 0}]
  seen = []
  with tfds.testing.mock_data(as_dataset_fn=_examples_fn(examples, seen)):
    c = load_corpus("ag_news", "test[:75%]", data_dir=tmp_path)
  assert c.texts == ["T\u00e9 1 d one", "T2 "]
  np.testing.assert_array_equal(c.labels, [3, 0])
  assert c.label_names == ["World", "Sports", "Business", "Sci/Tech"]
  assert seen == ["test[:75%]"]  # The spec reaches tfds unchanged.
  assert probes and "drive.google.com" in probes[0][0]


def test_local_copy_wins_over_tfds(tmp_path, probes):
  (tmp_path / "imdb").mkdir()
  (tmp_path / "imdb" / "train.jsonl").write_text('{"text": "local", "label": 1}\n')
  with tfds.testing.mock_data(num_examples=3):
    assert load_corpus("imdb", data_dir=tmp_path).texts == ["local"]
    assert len(load_corpus("imdb", "test", data_dir=tmp_path)) == 3
  assert len(probes) == 1  # Only the tfds load checked the network.


def test_yelp_polarity_unescapes(tmp_path, probes):
  examples = [{"text": 'say ""hi""\\nbye', "label": 1}]
  with tfds.testing.mock_data(as_dataset_fn=_examples_fn(examples, [])):
    c = load_corpus("yelp_polarity", "test", data_dir=tmp_path)
  assert c.texts == ['say "hi"\nbye']
  assert c.label_names == ["neg", "pos"]


def test_squad_rows_map_dev_to_validation(tmp_path, probes):
  seen = []

  def as_dataset(self, split, **kwargs):
    del self, kwargs
    seen.append(str(split))
    ex = {"id": "q1", "title": "T", "context": "ab cd", "question": "Q?",
          "answers": {"text": ["cd", "c"], "answer_start": [3, 3]}}
    return tf.data.Dataset.from_tensors(ex)

  with tfds.testing.mock_data(as_dataset_fn=as_dataset):
    rows = load_rows("squad", "dev[:10%]", data_dir=tmp_path)
  assert seen == ["validation[:10.0%]"]
  assert rows == [{"id": "q1", "title": "T", "context": "ab cd",
                   "question": "Q?", "answer_text": "cd", "answer_start": 3,
                   "answers": [{"text": "cd", "answer_start": 3},
                               {"text": "c", "answer_start": 3}]}]
