"""Text classifiers (TextCNN, BiLSTM, BERT), built by family name (families.py)."""

from __future__ import annotations

import importlib

from kwls_jax.models.families import FAMILIES, MODEL_NAMES, create_model

_CLASSES = {"BertClassifier": "bert", "BertConfig": "bert", "BertModel": "bert",
            "BiLSTMClassifier": "lstm", "TextCNN": "textcnn"}


def __getattr__(name: str):
  """The model classes, imported on first use (flax is slow to import)."""
  if name not in _CLASSES:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  return getattr(importlib.import_module(f"{__name__}.{_CLASSES[name]}"), name)


__all__ = ["FAMILIES", "MODEL_NAMES", "create_model", *_CLASSES]
