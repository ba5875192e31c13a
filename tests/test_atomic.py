"""atomic_open: the file appears whole or not at all."""

import numpy as np
import pytest

from kwls_jax.atomic import atomic_open, save_npy


def test_writes_creating_folders(tmp_path):
  path = tmp_path / "a" / "b" / "out.txt"
  with atomic_open(path) as f:
    f.write("héllo\n")
  assert path.read_text(encoding="utf-8") == "héllo\n"
  assert [p.name for p in path.parent.iterdir()] == ["out.txt"]
  with atomic_open(path, "wb") as f:
    f.write(b"\x00\x01")
  assert path.read_bytes() == b"\x00\x01"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
  path = tmp_path / "out.json"
  path.write_text("old")
  with pytest.raises(KeyboardInterrupt):
    with atomic_open(path) as f:
      f.write("half")
      raise KeyboardInterrupt
  assert path.read_text() == "old"
  assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_save_npy_round_trips_and_leaves_no_temp(tmp_path):
  path = tmp_path / "probs.npy"
  array = np.arange(6, dtype=np.float32).reshape(2, 3)
  save_npy(path, array)
  np.testing.assert_array_equal(np.load(path), array)
  assert [p.name for p in tmp_path.iterdir()] == ["probs.npy"]
