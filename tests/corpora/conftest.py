"""Fixtures of the corpora tests."""

import pytest


@pytest.fixture(autouse=True)
def _no_ambient_data_dir(monkeypatch):
  """Tests choose their own KWLS_DATA_DIR; a user's setting must not leak in."""
  monkeypatch.delenv("KWLS_DATA_DIR", raising=False)
  monkeypatch.delenv("KWLS_PROBE_TIMEOUT", raising=False)
