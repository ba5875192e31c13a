"""Fixtures of the corpora tests."""

import os
import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def shared_datasets_dir() -> pathlib.Path:
  """$KWLS_SHARED_DATASETS, else `../shared/datasets` beside the repo."""
  env = os.environ.get("KWLS_SHARED_DATASETS")
  return pathlib.Path(env) if env else REPO_ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> pathlib.Path:
  path = shared_datasets_dir()
  if not (path / "README.md").exists():
    pytest.skip(f"real datasets not found at {path} (set KWLS_SHARED_DATASETS)")
  return path


@pytest.fixture(autouse=True)
def _no_ambient_data_dir(monkeypatch):
  """Tests choose their own KWLS_DATA_DIR; a user's setting must not leak in."""
  monkeypatch.delenv("KWLS_DATA_DIR", raising=False)
  monkeypatch.delenv("KWLS_PROBE_TIMEOUT", raising=False)
