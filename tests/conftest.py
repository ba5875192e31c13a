"""Shared fixtures: where the real corpora of ../shared/datasets live."""

from __future__ import annotations

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def shared_datasets_dir() -> pathlib.Path | None:
  """$KWLS_SHARED_DATASETS, else ../shared/datasets beside the checkout."""
  env = os.environ.get("KWLS_SHARED_DATASETS")
  candidates = [pathlib.Path(env)] if env else []
  candidates.append(REPO.parent / "shared" / "datasets")
  for c in candidates:
    if (c / "ag_news" / "test.jsonl.gz").exists():
      return c
  return None


@pytest.fixture(scope="session")
def shared_datasets() -> pathlib.Path:
  d = shared_datasets_dir()
  if d is None:
    pytest.skip("real corpora not found: set KWLS_SHARED_DATASETS to a folder "
                "laid out like ../shared/datasets")
  return d
