"""Shared fixtures: where the real corpora of ../shared/datasets live, and
Python subprocesses with JAX on two CPU devices."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

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
