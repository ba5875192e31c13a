"""Shared fixtures for the model tests."""

import pytest

from kwls_jax.models import pretrained


@pytest.fixture(scope="session")
def minilm_path():
  """The MiniLM-L6 checkpoint folder, or a skip naming the install command."""
  try:
    return pretrained.minilm_dir()
  except FileNotFoundError as e:
    pytest.skip(str(e))
