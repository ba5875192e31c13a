"""Lets the tests here import the literal reference implementation and
_data; `corpus` gives each test a synthetic corpus and, where the shared
datasets are, AG News' test split."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import _data  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(params=["synthetic", "ag_news"])
def corpus(request):
  """load(limit=None) -> (texts, label ids, P), the first `limit` rows."""
  if request.param == "synthetic":
    return lambda limit=None: _data.synthetic(limit or 3000)
  path = request.getfixturevalue("shared_datasets") / "ag_news" / "test.jsonl.gz"
  return lambda limit=None: _data.load(path, limit=limit)
