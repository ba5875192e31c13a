"""Label-smoothing stage (hard labels + texts -> soft labels): KWLS (Eqs. 1-8), LS-TFIDF and LS-Classic, with explanations."""

from kwls_jax.smoothing.api import METHODS, compute_soft_labels, soft_labels

__all__ = ["METHODS", "compute_soft_labels", "soft_labels"]
