"""Files a resumed run reads back (config.json, vocab.json, wandb_id.txt)
are whole or absent after a write that was cut short."""

from __future__ import annotations

import builtins
import os

import pytest

from kwls_jax.training import config as config_lib
from kwls_jax.training import loop
from kwls_jax.training import tracking


class Crash(Exception):
  """A write cut short."""


@pytest.fixture
def crash_writing(monkeypatch):
  """crash_writing(name): writes to files named *name write half and raise."""
  real_open = builtins.open

  def crash(name):
    def open_(file, mode="r", *args, **kwargs):
      f = real_open(file, mode, *args, **kwargs)
      if "w" in mode and os.fspath(file).endswith(name):
        write = f.write

        def half(text):
          write(text[:len(text) // 2])
          raise Crash(file)
        f.write = half
      return f
    monkeypatch.setattr(builtins, "open", open_)
  return crash


@pytest.mark.parametrize("name", ["config.json", "vocab.json"])
def test_a_run_cut_short_writing_a_file_starts_again(tmp_path, make_config,
                                                     monkeypatch,
                                                     crash_writing, name):
  config = config_lib.load(None, [], **make_config(max_steps=2))
  run_dir = str(tmp_path / "run")
  crash_writing(name)
  with pytest.raises(Crash):
    loop.train(config, run_dir, progress=False)
  monkeypatch.undo()
  assert not os.path.exists(os.path.join(run_dir, name))
  assert loop.train(config, run_dir, progress=False)["steps"] == 2


def test_wandb_id_is_whole_or_absent(tmp_path, monkeypatch, crash_writing):
  crash_writing(tracking.WANDB_ID_FILE)
  with pytest.raises(Crash):
    tracking.wandb_run_id(str(tmp_path))
  monkeypatch.undo()
  assert not (tmp_path / tracking.WANDB_ID_FILE).exists()
  run_id = tracking.wandb_run_id(str(tmp_path))
  assert len(run_id) == 8 and tracking.wandb_run_id(str(tmp_path)) == run_id
