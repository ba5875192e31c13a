"""Shared fixtures: where the real corpora of ../shared/datasets live, and
Python subprocesses with JAX on two CPU devices."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def shared_datasets_dir() -> pathlib.Path:
  """$KWLS_SHARED_DATASETS, else ../shared/datasets beside the checkout."""
  env = os.environ.get("KWLS_SHARED_DATASETS")
  return pathlib.Path(env) if env else REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> pathlib.Path:
  """The real corpora; tests that need them skip where they are absent."""
  path = shared_datasets_dir()
  if not (path / "README.md").exists():
    pytest.skip(f"real datasets not found at {path} (set KWLS_SHARED_DATASETS "
                "to a folder laid out like ../shared/datasets)")
  return path


@pytest.fixture(scope="session")
def two_devices():
  """start(script, *args) -> Popen of `python -c script args` with JAX on
  two CPU devices (data parallelism without a second accelerator); its
  stdout and stderr are text pipes: read them with .communicate()."""
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
         "JAX_PLATFORMS": "cpu"}

  def start(script: str, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)],
                            env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

  return start
