"""The KWLS training loss (paper Eq. 9) and the authors' two-head variant."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def hard_targets(labels: jax.Array, num_labels: int) -> jax.Array:
  """Hard label matrix l [N, p] from int ids [N] or a multi-hot [N, p]."""
  labels = jnp.asarray(labels)
  if labels.ndim == 1:
    return jax.nn.one_hot(labels, num_labels, dtype=jnp.float32)
  if labels.ndim == 2 and labels.shape[-1] == num_labels:
    return labels.astype(jnp.float32)
  raise ValueError(
      f"labels must be [N] ids or [N, {num_labels}] multi-hot, got {labels.shape}")


def _eq9(log_o, o_soft, labels, soft_labels, alpha, mask=None):
  """-sum_ij [l log o - (alpha/p)(d - o')^2] / (2N(1+alpha)^2), Eq. 9.

  With a row mask [N] of 0/1, the sum runs over the rows with mask 1 and N is
  their count (padding rows of a batch count nowhere).
  """
  n, p = log_o.shape
  l = hard_targets(labels, p)
  d = jnp.asarray(soft_labels, jnp.float32)
  if d.shape != (n, p):
    raise ValueError(f"soft_labels must be [{n}, {p}], got {d.shape}")
  alpha = jnp.asarray(alpha, jnp.float32)
  per_row = (jnp.sum(l * log_o, -1)
             - (alpha / p) * jnp.sum(jnp.square(d - o_soft), -1))
  if mask is None:
    return -jnp.sum(per_row) / (2.0 * n * jnp.square(1.0 + alpha))
  mask = jnp.asarray(mask, jnp.float32)
  if mask.shape != (n,):
    raise ValueError(f"mask must be [{n}], got {mask.shape}")
  count = jnp.maximum(jnp.sum(mask), 1.0)
  return -jnp.sum(mask * per_row) / (2.0 * count * jnp.square(1.0 + alpha))


def eq9_loss(logits: jax.Array, labels: jax.Array, soft_labels: jax.Array,
             alpha: float | jax.Array, mask: jax.Array | None = None
             ) -> jax.Array:
  """Scalar loss of Eq. 9 with o = softmax(logits); alpha = 0 is CE / 2."""
  log_o = jax.nn.log_softmax(jnp.asarray(logits, jnp.float32), axis=-1)
  return _eq9(log_o, jnp.exp(log_o), labels, soft_labels, alpha, mask)


def eq9_two_head_loss(logits_ce: jax.Array, logits_soft: jax.Array,
                      labels: jax.Array, soft_labels: jax.Array,
                      alpha: float | jax.Array,
                      mask: jax.Array | None = None) -> jax.Array:
  """Eq. 9 with CE on head 1 and the MSE to d on softmax of head 2.

  This is the variant in the authors' released code
  (run_classifier_label_distribution_kwls.py): a second output layer's
  softmax is fit to the soft labels by mean squared error while the first
  takes cross-entropy. Their code divides by (1+alpha)^2 only; here the
  normalisation of Eq. 9, 2N(1+alpha)^2, is kept so that the two losses
  coincide when both heads are the same.
  """
  log_o = jax.nn.log_softmax(jnp.asarray(logits_ce, jnp.float32), axis=-1)
  o_soft = jax.nn.softmax(jnp.asarray(logits_soft, jnp.float32), axis=-1)
  if o_soft.shape != log_o.shape:
    raise ValueError(
        f"heads differ in shape: {log_o.shape} vs {o_soft.shape}")
  return _eq9(log_o, o_soft, labels, soft_labels, alpha, mask)
