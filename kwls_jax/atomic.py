"""Atomic file writes: a file appears whole or not at all.

Every output a later step reads (soft labels, corpora, predictions,
final.json, metrics, report tables) is written through `atomic_open`, so an
interrupted run never leaves a truncated file behind.
"""

from __future__ import annotations

import contextlib
import os
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
  """open(path, mode) for writing, via `.tmp-<name>` beside it.

  The temporary file replaces `path` when the block ends normally and is
  removed when it raises; missing parent folders are created. Text modes
  use UTF-8.
  """
  path = os.fspath(path)
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  tmp = os.path.join(folder, ".tmp-" + os.path.basename(path))
  try:
    with open(tmp, mode, encoding=None if "b" in mode else "utf-8") as f:
      yield f
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)
    raise


def save_npy(path: str | os.PathLike, array) -> None:
  """np.save(path, array) through atomic_open."""
  import numpy as np  # pylint: disable=g-import-not-at-top  # CLI start-up
  with atomic_open(path, "wb") as f:
    np.save(f, array)
