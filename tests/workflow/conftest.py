"""One persistent XLA compilation cache for every workflow run of a session."""

import pytest

import tiny_experiment


@pytest.fixture(scope="session", autouse=True)
def xla_cache(tmp_path_factory):
  """The workflow runs' jobs compile each program once a session, not once a
  job: the same executables, without the compile time (`kwls train` keeps no
  cache of its own)."""
  tiny_experiment.XLA_CACHE.update(
      JAX_COMPILATION_CACHE_DIR=str(tmp_path_factory.mktemp("xla")),
      JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
      JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
  yield
  tiny_experiment.XLA_CACHE.clear()
