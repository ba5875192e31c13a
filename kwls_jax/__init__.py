"""kwls-jax: keyword-based label smoothing (KWLS) for text mining, in JAX/Flax.

Data flows stage by stage: `corpora` -> `smoothing` (soft labels) -> `models` / `training`
-> `retrieval` -> `reporting`.
"""

__version__ = "0.1.0"


def soft_labels(*args, **kwargs):
  """See `kwls_jax.smoothing.api.soft_labels` (imported lazily: JAX is heavy)."""
  from kwls_jax.smoothing.api import soft_labels as _soft_labels  # pylint: disable=g-import-not-at-top
  return _soft_labels(*args, **kwargs)


def eq9_loss(*args, **kwargs):
  """See `kwls_jax.training.loss.eq9_loss` (the paper's Eq. 9)."""
  from kwls_jax.training.loss import eq9_loss as _eq9_loss  # pylint: disable=g-import-not-at-top
  return _eq9_loss(*args, **kwargs)


def eq9_two_head_loss(*args, **kwargs):
  """See `kwls_jax.training.loss.eq9_two_head_loss` (the authors' variant)."""
  from kwls_jax.training.loss import eq9_two_head_loss as _loss  # pylint: disable=g-import-not-at-top
  return _loss(*args, **kwargs)
