"""Test hooks for `kwls train` run in a child process (tests/hooks on PYTHONPATH).

KWLS_TRAIN_TEST_KILL_AT_STEP=S: the process SIGKILLs itself after update S
(after any checkpoint due at S). KWLS_TRAIN_TEST_PAUSE=METHOD:S: a run of
that method, after update S, writes PAUSED in its run directory and sleeps
(up to a minute), so that a test can interrupt it at a known point.

Both are `train` hooks, added when kwls_jax.training.loop is imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import signal
import sys
import time

KILL_ENV = "KWLS_TRAIN_TEST_KILL_AT_STEP"
PAUSE_ENV = "KWLS_TRAIN_TEST_PAUSE"
PAUSED_FILE = "PAUSED"
LOOP = "kwls_jax.training.loop"


def env_hooks(loop, config, run_dir: str) -> list:
  """The loop Actions the environment asks for."""
  hooks = []
  kill_at = int(os.environ.get(KILL_ENV, "0") or 0)
  if kill_at:
    def kill(p):
      if p.step == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    hooks.append(loop.Action(1, kill))
  method, _, pause_at = os.environ.get(PAUSE_ENV, "").partition(":")
  if pause_at and method == config.method:
    def pause(p):
      if p.step == int(pause_at):
        with open(os.path.join(run_dir, PAUSED_FILE), "w") as f:
          f.write(str(p.step))
        time.sleep(60)
    hooks.append(loop.Action(1, pause))
  return hooks


def _add_env_hooks(loop) -> None:
  """loop.train with env_hooks appended to the hooks it is given."""
  train = loop.train

  def train_with_env_hooks(config, run_dir, progress=True, hooks=()):
    return train(config, run_dir, progress,
                 [*hooks, *env_hooks(loop, config, run_dir)])
  loop.train = train_with_env_hooks


class _LoopFinder(importlib.abc.MetaPathFinder):
  """Finds kwls_jax.training.loop as usual and patches it once loaded."""

  def find_spec(self, name, path=None, target=None):
    if name != LOOP:
      return None
    sys.meta_path.remove(self)
    spec = importlib.util.find_spec(name)
    exec_module = spec.loader.exec_module

    def exec_and_patch(module):
      exec_module(module)
      _add_env_hooks(module)
    spec.loader.exec_module = exec_and_patch
    return spec


if os.environ.get(KILL_ENV) or os.environ.get(PAUSE_ENV):
  sys.meta_path.insert(0, _LoopFinder())
