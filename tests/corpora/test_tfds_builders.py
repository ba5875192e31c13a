"""Our tfds builders, checked with tfds' own DatasetBuilderTestCase.

Dummy archives come from `make_dummy_data.py` (invented rows). Two cases per
builder: the archive found in manual_dir (really extracted), and the
download path (`download_and_extract` mocked by tfds to the extracted tree).
"""

import filecmp
import os

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")
pytest.importorskip("dill", reason="tfds.testing needs dill (pip install dill)")

# pylint: disable=g-import-not-at-top,wrong-import-position
from kwls_jax.corpora import load_corpus
from kwls_jax.corpora import registry
from kwls_jax.corpora.tfds_builders import Dbpedia14
from kwls_jax.corpora.tfds_builders import YelpFull
import make_dummy_data

DUMMY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dummy_data")


class Dbpedia14ManualDirTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = Dbpedia14
  EXAMPLE_DIR = os.path.join(DUMMY, "dbpedia_14")
  SPLITS = {"train": 4, "test": 2}
  SKIP_CHECKSUMS = True


class Dbpedia14DownloadTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = Dbpedia14
  EXAMPLE_DIR = os.path.join(DUMMY, "dbpedia_14", "download")
  SPLITS = {"train": 4, "test": 2}
  SKIP_CHECKSUMS = True


class YelpFullManualDirTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = YelpFull
  EXAMPLE_DIR = os.path.join(DUMMY, "yelp_full")
  SPLITS = {"train": 5, "test": 3}
  SKIP_CHECKSUMS = True


class YelpFullDownloadTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = YelpFull
  EXAMPLE_DIR = os.path.join(DUMMY, "yelp_full", "download")
  SPLITS = {"train": 5, "test": 3}
  SKIP_CHECKSUMS = True


def test_dummy_data_is_what_the_script_writes(tmp_path):
  make_dummy_data.main(str(tmp_path))
  cmp = filecmp.dircmp(DUMMY, tmp_path)
  files = [os.path.relpath(os.path.join(r, f), tmp_path)
           for r, _, fs in os.walk(tmp_path) for f in fs]
  assert len(files) == 7
  for rel in files:
    assert filecmp.cmp(os.path.join(DUMMY, rel), tmp_path / rel,
                       shallow=False), rel
  assert not cmp.left_only, "dummy_data has files the script does not write"


def _expected(rows, to_text):
  return [to_text(r) for r in rows], np.array([r[0] - 1 for r in rows])


@pytest.mark.parametrize("split", ["train", "test"])
def test_load_dbpedia_14_from_manual_dir(tmp_path, split):
  c = load_corpus("dbpedia_14", split, data_dir=None,
                  tfds_data_dir=str(tmp_path), probe_timeout=0.5,
                  manual_dir=os.path.join(DUMMY, "dbpedia_14"))
  texts, labels = _expected(make_dummy_data.DBPEDIA_14[split],
                            lambda r: f"{r[1]} {r[2].strip()}")
  assert c.texts == texts
  np.testing.assert_array_equal(c.labels, labels)
  assert c.label_names == list(registry.DBPEDIA_14_CLASSES)
  assert c.label_names == make_dummy_data.DBPEDIA_14_CLASSES
  assert c.source == "tfds:dbpedia_14"


def test_load_yelp_full_unescapes_newlines(tmp_path):
  c = load_corpus("yelp_full", "train+test[:1]", data_dir=None,
                  tfds_data_dir=str(tmp_path), probe_timeout=0.5,
                  manual_dir=os.path.join(DUMMY, "yelp_full"))
  rows = make_dummy_data.YELP_FULL["train"] + make_dummy_data.YELP_FULL["test"][:1]
  texts, labels = _expected(rows, lambda r: r[1].replace("\\n", "\n"))
  assert c.texts == texts
  assert c.texts[3] == "Great tacos, slow service.\n\nWould return."
  assert c.texts[1] == 'The "special" was not special.'
  np.testing.assert_array_equal(c.labels, labels)
  assert c.num_labels == 5


def test_backslash_without_n_is_kept(tmp_path):
  c = load_corpus("yelp_full", "test[2:]", data_dir=None,
                  tfds_data_dir=str(tmp_path), probe_timeout=0.5,
                  manual_dir=os.path.join(DUMMY, "yelp_full"))
  assert c.texts == ["Okay-ish, a backslash \\\\ stays."]
