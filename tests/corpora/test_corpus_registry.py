"""The registry agrees with tfds' builders and the shared datasets."""

import json

import numpy as np
import pytest

from kwls_jax.corpora import CorpusError
from kwls_jax.corpora import registry


@pytest.mark.parametrize("name", ["ag_news", "imdb", "yelp_polarity",
                                  "dbpedia_14", "yelp_full"])
def test_class_counts_match_tfds_builders(name, tmp_path):
  tfds = pytest.importorskip("tensorflow_datasets")
  spec = registry.get_spec(name)
  if spec.tfds_name in registry.OWN_BUILDERS:
    import kwls_jax.corpora.tfds_builders  # pylint: disable=g-import-not-at-top,unused-import
  builder = tfds.builder(spec.tfds_name, data_dir=str(tmp_path))
  label = builder.info.features["label"]
  assert label.num_classes == len(spec.label_names)
  if name in ("ag_news", "imdb", "dbpedia_14", "yelp_full"):
    assert tuple(label.names) == spec.label_names
  for url in spec.urls:
    assert url.startswith(("http://", "https://"))


def test_squad_config_and_splits(tmp_path):
  tfds = pytest.importorskip("tensorflow_datasets")
  spec = registry.get_spec("squad")
  builder = tfds.builder(spec.tfds_name, data_dir=str(tmp_path))
  assert builder.builder_config.name == "v1.1"
  assert set(spec.tfds_splits.values()) == {"validation"}
  assert any("dev-v1.1.json" in u for u in builder.url_infos)


@pytest.mark.parametrize("name", ["ag_news", "imdb"])
def test_names_match_shared_labels_json(name, shared_datasets):
  names = json.loads((shared_datasets / name / "labels.json").read_text())
  assert tuple(names) == registry.get_spec(name).label_names


def test_mappers_decode_bytes():
  ag = registry.get_spec("ag_news").to_text_label
  assert ag({"title": b"T\xc3\xa9", "description": b"body", "label": np.int64(2)}) == ("Té body", 2)
  imdb = registry.get_spec("imdb").to_text_label
  assert imdb({"text": b"x<br />y", "label": 1}) == ("x<br />y", 1)
  db = registry.get_spec("dbpedia_14").to_text_label
  assert db({"title": b"Abbott", "content": b" Abbott is a firm.", "label": 0}) == (
      "Abbott Abbott is a firm.", 0)
  yf = registry.get_spec("yelp_full").to_text_label
  assert yf({"text": b"a\nb", "label": 4}) == ("a\nb", 4)


def test_unescape_zhang_csv():
  assert registry.unescape_zhang_csv("a\\nb\\n\\nc") == "a\nb\n\nc"
  assert registry.unescape_zhang_csv("no escapes \\ here") == "no escapes \\ here"


@pytest.mark.parametrize("spec", registry.CORPORA.values(), ids=lambda s: s.name)
def test_spec_is_consistent(spec):
  rows = spec.kind == "rows"
  assert spec.kind in ("classification", "rows")
  assert rows == (spec.to_text_label is None) == (not spec.label_names)
  assert len(set(spec.label_names)) == len(spec.label_names)
  assert spec.folder and "/" not in spec.folder and spec.tfds_name
  assert set(spec.tfds_splits.values()) <= {"train", "test", "validation"}


def test_own_builders_are_registered():
  assert registry.OWN_BUILDERS <= {
      s.tfds_name for s in registry.CORPORA.values()}


def test_unknown_name_lists_known():
  with pytest.raises(CorpusError, match="known: .*'ag_news'"):
    registry.get_spec("agnews")
