"""kwls-jax: keyword-based label smoothing (KWLS) for text mining, in JAX/Flax.

Data flows stage by stage: `corpora` -> `smoothing` (soft labels) -> `models` / `training`
-> `retrieval` -> `reporting`. The functions below are imported on first use
(PEP 562), so `import kwls_jax` alone loads neither JAX nor Flax.
"""

import importlib

__version__ = "0.1.0"

_LAZY = {  # public name -> the module that defines it
    "soft_labels": "kwls_jax.smoothing.api",
    "eq9_loss": "kwls_jax.training.loss",
    "eq9_two_head_loss": "kwls_jax.training.loss",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
  if name not in _LAZY:
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
  value = getattr(importlib.import_module(_LAZY[name]), name)
  globals()[name] = value  # later lookups skip __getattr__
  return value


def __dir__():
  return sorted(set(globals()) | set(_LAZY))
