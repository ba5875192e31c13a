"""The paper's relevance quantities (Sec. 4), one small jittable function each.

Shapes: V words, P labels. Word-label tables are [V, P]; per-(instance, word)
quantities are flat over the distinct (instance, word) pairs. The LS-TFIDF
variant swaps the BM25-style saturations and the "+1" weights for plain TF and
plain IDF (see `tfidf_*`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def wlc(f_label, s_label, k1, b, s_avg=None):
  """Word-Label Correlation, Eq. 1: f*k1 / (f + k1*(1 - b + b*S_m/S_avg)).

  With `s_avg` None, `s_label` holds every S_m [P] and S_avg is their mean;
  given `s_avg`, `f_label` and `s_label` may be any broadcastable shapes
  (e.g. flat sparse entries with each entry's S_m).
  """
  if s_avg is None:
    s_avg = jnp.mean(s_label)
  ratio = jnp.where(s_avg > 0, s_label / jnp.where(s_avg > 0, s_avg, 1), 0)
  big_k = k1 * (1 - b + b * ratio)  # [P]
  denom = f_label + big_k
  return jnp.where(f_label > 0, f_label * k1 / jnp.where(denom > 0, denom, 1),
                   0)


def wlw(label_df, num_labels):
  """Word-Label Weight, Eq. 2: log(p / #labels whose instances contain w) + 1."""
  safe = jnp.where(label_df > 0, label_df, 1)
  return jnp.where(label_df > 0, jnp.log(num_labels / safe) + 1, 0)


def wlr(wlw_, wlc_):
  """Word-Label Relevance, Eq. 3: WLW_w * WLC_{w,m}."""
  return wlw_[:, None] * wlc_


def wic(f_inst, k2):
  """Word-Instance Correlation, Eq. 4: f*k2 / (f + k2)."""
  return f_inst * k2 / (f_inst + k2)


def wiw(df, num_instances):
  """Word-Instance Weight, Eq. 5: log(N / #instances containing w) + 1."""
  safe = jnp.where(df > 0, df, 1)
  return jnp.where(df > 0, jnp.log(num_instances / safe) + 1, 0)


def wir(wiw_, wic_):
  """Word-Instance Relevance, Eq. 6: WIW_w * WIC_{w,i}."""
  return wiw_ * wic_


def ilr(wlr_rows, wir_, segment, num_segments, x_avg):
  """Instance-Label Relevance, Eq. 7: sum_{w in x_i} WLR_{w,m} WIR_{w,i} / X_avg.

  `wlr_rows` [C, P] and `wir_` [C] are per (instance, distinct word) pair;
  `segment` [C] names each pair's instance (out-of-range ids are padding).
  """
  total = jax.ops.segment_sum(wlr_rows * wir_[:, None], segment,
                              num_segments=num_segments,
                              indices_are_sorted=True)
  return total / jnp.where(x_avg > 0, x_avg, 1)


def soft_label(ilr_):
  """Soft label, Eq. 8: softmax over labels (max-subtracted, so never overflows)."""
  return jax.nn.softmax(ilr_, axis=-1)


def tfidf_wlc(f_label, s_label, k1, b, s_avg=None):
  """LS-TFIDF's WLC: the plain term frequency f_{w,X_m}."""
  del s_label, k1, b, s_avg
  return f_label


def tfidf_wlw(label_df, num_labels):
  """LS-TFIDF's WLW: plain IDF over labels, log(p / #labels containing w)."""
  safe = jnp.where(label_df > 0, label_df, 1)
  return jnp.where(label_df > 0, jnp.log(num_labels / safe), 0)


def tfidf_wic(f_inst, k2):
  """LS-TFIDF's WIC: the plain term frequency f_{w,x_i}."""
  del k2
  return f_inst


def tfidf_wiw(df, num_instances):
  """LS-TFIDF's WIW: plain IDF over instances, log(N / df_w)."""
  safe = jnp.where(df > 0, df, 1)
  return jnp.where(df > 0, jnp.log(num_instances / safe), 0)


WEIGHTINGS = {
    "kwls": (wlc, wlw, wic, wiw),
    "tfidf": (tfidf_wlc, tfidf_wlw, tfidf_wic, tfidf_wiw),
}
