"""load_corpus from local folders and paths, and its precedence over tfds."""

import json

import numpy as np
import pytest

from kwls_jax.corpora import Corpus
from kwls_jax.corpora import CorpusError
from kwls_jax.corpora import CorpusUnavailableError
from kwls_jax.corpora import load_corpus
from kwls_jax.corpora import load_rows
from kwls_jax.corpora import write_jsonl
from kwls_jax.corpora import load as load_lib


def _corpus(n, tag, names=("neg", "pos")):
  return Corpus(texts=[f"{tag}{i}" for i in range(n)],
                labels=np.arange(n) % len(names), label_names=list(names))


@pytest.fixture
def data_dir(tmp_path):
  """A KWLS data dir with imdb train (10 rows, .jsonl.gz) and test (4, .jsonl)."""
  write_jsonl(tmp_path / "imdb" / "train.jsonl.gz", _corpus(10, "tr"))
  write_jsonl(tmp_path / "imdb" / "test.jsonl", _corpus(4, "te"))
  return tmp_path


@pytest.fixture
def no_tfds(monkeypatch):
  """Makes any tfds access fail loudly, recording the attempt."""
  calls = []

  def fail(spec, split, *args, **kwargs):
    calls.append((spec.name, split))
    raise CorpusUnavailableError(f"tfds path taken for {spec.name}[{split}]")

  monkeypatch.setattr(load_lib, "tfds_examples", fail)
  return calls


def test_local_folder_from_env(data_dir, monkeypatch, no_tfds):
  monkeypatch.setenv("KWLS_DATA_DIR", str(data_dir))
  c = load_corpus("imdb")
  assert c.texts == [f"tr{i}" for i in range(10)]
  assert (c.name, c.split) == ("imdb", "train")
  assert c.source == f"local:{data_dir / 'imdb' / 'train.jsonl.gz'}"
  assert load_corpus("imdb", "test").texts == ["te0", "te1", "te2", "te3"]
  assert not no_tfds


def test_argument_beats_env(data_dir, tmp_path_factory, monkeypatch, no_tfds):
  other = tmp_path_factory.mktemp("other")
  write_jsonl(other / "imdb" / "train.jsonl", _corpus(3, "other"))
  monkeypatch.setenv("KWLS_DATA_DIR", str(other))
  assert load_corpus("imdb").texts == ["other0", "other1", "other2"]
  assert load_corpus("imdb", data_dir=data_dir).texts[0] == "tr0"


def test_gz_preferred_over_plain(data_dir, no_tfds):
  write_jsonl(data_dir / "imdb" / "train.jsonl", _corpus(2, "plain"))
  assert len(load_corpus("imdb", data_dir=data_dir)) == 10


def test_local_slices_and_unions(data_dir, no_tfds):
  c = load_corpus("imdb", "train[:30%]+test[-1:]+train[90%:]",
                  data_dir=data_dir)
  assert c.texts == ["tr0", "tr1", "tr2", "te3", "tr9"]
  np.testing.assert_array_equal(c.labels, [0, 1, 0, 1, 1])
  assert c.split == "train[:30%]+test[-1:]+train[90%:]"
  assert c.source == f"local:{data_dir / 'imdb'}"


def test_missing_split_falls_back_to_tfds(data_dir, no_tfds):
  with pytest.raises(CorpusUnavailableError, match="tfds path taken"):
    load_corpus("imdb", "unsupervised", data_dir=data_dir)
  with pytest.raises(CorpusUnavailableError):
    load_corpus("imdb", "train+unsupervised[:5]", data_dir=data_dir)
  assert no_tfds == [("imdb", "unsupervised"),
                     ("imdb", "train+unsupervised[:5]")]


def test_missing_split_error_names_the_local_splits(data_dir, no_tfds):
  """A typo in a split of a local corpus: the error says what is there."""
  with pytest.raises(CorpusUnavailableError) as e:
    load_corpus("imdb", "trian", data_dir=data_dir)
  msg = str(e.value)
  assert msg.startswith(f"{data_dir / 'imdb'} has no file for split 'trian'")
  assert "(it has: test, train)" in msg and "tfds path taken" in msg


@pytest.mark.parametrize("how", ["argument", "env"])
def test_data_dir_that_is_not_a_folder_is_an_error(tmp_path, monkeypatch,
                                                   no_tfds, how):
  missing = tmp_path / "no_such_folder"
  if how == "env":
    monkeypatch.setenv("KWLS_DATA_DIR", str(missing))
  with pytest.raises(CorpusError, match="is not a folder") as e:
    load_corpus("imdb", data_dir=missing if how == "argument" else None)
  assert str(missing) in str(e.value)
  assert ("$KWLS_DATA_DIR" in str(e.value)) == (how == "env")
  assert no_tfds == []  # no download tried


def test_no_local_folder_goes_to_tfds(tmp_path, no_tfds):
  with pytest.raises(CorpusUnavailableError):
    load_corpus("ag_news", "test[:75%]", data_dir=tmp_path)
  with pytest.raises(CorpusUnavailableError):
    load_corpus("ag_news", "test")  # No data_dir and no KWLS_DATA_DIR.
  assert no_tfds == [("ag_news", "test[:75%]"), ("ag_news", "test")]


def test_registry_names_used_without_labels_json(data_dir, no_tfds):
  (data_dir / "imdb" / "labels.json").unlink()
  assert load_corpus("imdb", data_dir=data_dir).label_names == ["neg", "pos"]


def test_local_class_count_must_match_registry(data_dir, no_tfds):
  (data_dir / "imdb" / "labels.json").write_text(json.dumps(["a", "b", "c"]))
  with pytest.raises(CorpusError, match="num_labels=2 but 3 label names"):
    load_corpus("imdb", data_dir=data_dir)


def test_out_of_range_local_label_is_caught(data_dir, no_tfds):
  (data_dir / "imdb" / "labels.json").unlink()
  (data_dir / "imdb" / "test.jsonl").write_text(
      '{"text": "a", "label": 1}\n{"text": "b", "label": 2}\n')
  with pytest.raises(CorpusError, match=r"test\.jsonl:2: label id 2"):
    load_corpus("imdb", "test", data_dir=data_dir)


def test_path_to_file(data_dir):
  path = data_dir / "imdb" / "train.jsonl.gz"
  c = load_corpus(str(path))
  assert len(c) == 10 and c.name == "imdb"
  assert load_corpus(str(path), "whatever[-2:]").texts == ["tr8", "tr9"]
  with pytest.raises(CorpusError, match="one file cannot serve"):
    load_corpus(str(path), "train+test")


def test_path_to_folder(data_dir):
  c = load_corpus(str(data_dir / "imdb"), "test[:50%]+train[:1]")
  assert c.texts == ["te0", "te1", "tr0"]
  with pytest.raises(CorpusError, match=r"no file for split 'dev'.*test\.jsonl"):
    load_corpus(str(data_dir / "imdb"), "dev")


def test_missing_path(tmp_path):
  with pytest.raises(CorpusError, match="no such corpus file or folder"):
    load_corpus(str(tmp_path / "nope.jsonl"))


def test_multi_label_and_single_label_files_concatenate(tmp_path):
  names = ["a", "b", "c"]
  write_jsonl(tmp_path / "m" / "train.jsonl",
              Corpus(["x"], np.array([[1, 0, 1]], bool), names))
  write_jsonl(tmp_path / "m" / "test.jsonl", _corpus(2, "s", names))
  c = load_corpus(str(tmp_path / "m"), "train+test")
  np.testing.assert_array_equal(c.labels, [[1, 0, 1], [1, 0, 0], [0, 1, 0]])


def test_unknown_name(tmp_path):
  with pytest.raises(CorpusError, match=r"unknown corpus 'imbd'.*'imdb'"):
    load_corpus("imbd", data_dir=tmp_path)


def test_squad_has_no_labels(tmp_path):
  with pytest.raises(CorpusError, match="not class labels.*load_rows"):
    load_corpus("squad", "dev", data_dir=tmp_path)


def test_load_rows_local(data_dir, no_tfds):
  rows = load_rows("imdb", "test[1:3]", data_dir=data_dir)
  assert rows == [{"text": "te1", "label": 1}, {"text": "te2", "label": 0}]


def test_bad_split_spec(data_dir):
  with pytest.raises(CorpusError, match="bad split"):
    load_corpus("imdb", "train[", data_dir=data_dir)


def test_own_corpus_by_name_in_data_dir(tmp_path, monkeypatch):
  """A corpus outside the registry, named by its folder in the data dir."""
  rows = Corpus(texts=[f"t{i}" for i in range(10)], labels=[i % 2 for i in range(10)],
                label_names=["a", "b"])
  write_jsonl(tmp_path / "mine" / "train.jsonl.gz", rows)
  monkeypatch.chdir(tmp_path.parent)  # not resolvable as a relative path
  got = load_corpus("mine", "train[:60%]", data_dir=tmp_path)
  assert got.texts == [f"t{i}" for i in range(6)]
  assert got.label_names == ["a", "b"] and got.name == "mine"
  with pytest.raises(Exception, match="unknown corpus"):
    load_corpus("theirs", "train", data_dir=tmp_path)
