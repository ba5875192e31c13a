"""Tests for TextCNN: shapes, padding invariance, determinism."""

from flax import nnx
import numpy as np
import pytest

from kwls_jax.models import textcnn

IDS = np.array([[5, 6, 7, 8, 9, 0, 0], [4, 3, 0, 0, 0, 0, 0]], np.int32)


@nnx.jit(static_argnames="deterministic")
def _run(model, ids, mask=None, deterministic=True):
  return model(ids, mask, deterministic=deterministic)


def _model(seed=0, **kw):
  cfg = dict(embed_dim=16, num_filters=8)
  cfg.update(kw)
  return textcnn.TextCNN(30, 4, rngs=nnx.Rngs(seed), **cfg)


def test_shapes_and_default_mask():
  model = _model()
  logits = _run(model, IDS)
  assert logits.shape == (2, 4)
  np.testing.assert_array_equal(logits, _run(model, IDS, IDS != 0))


@pytest.mark.parametrize("pad", [(0, 9), (3, 0), (2, 5)])
def test_extra_padding_changes_nothing(pad):
  model = _model()
  padded = np.pad(IDS, ((0, 0), pad))
  np.testing.assert_allclose(_run(model, IDS, IDS != 0),
                             _run(model, padded, padded != 0), atol=1e-6)


def test_short_sentences_and_mask_not_ids():
  model = _model(filter_widths=(5,))
  one = np.array([[7, 0, 0, 0]], np.int32)
  assert np.all(np.isfinite(_run(model, one)))
  # A masked-out real id must not count, whatever its value.
  a = np.array([[7, 8, 9]], np.int32)
  b = np.array([[7, 8, 2]], np.int32)
  mask = np.array([[1, 1, 0]])
  np.testing.assert_allclose(_run(model, a, mask), _run(model, b, mask))


def test_determinism_and_dropout():
  a, b, c = _model(0), _model(0), _model(1)
  np.testing.assert_array_equal(_run(a, IDS), _run(b, IDS))
  assert not np.allclose(_run(a, IDS), _run(c, IDS))
  # Training mode applies dropout 0.5: two calls differ.
  assert not np.allclose(_run(a, IDS, deterministic=False),
                         _run(a, IDS, deterministic=False))


def test_wide_conv_equals_flax_conv():
  model = _model()
  x = np.random.default_rng(0).normal(size=(2, 6, 16)).astype(np.float32)
  for conv in model.convs:
    np.testing.assert_allclose(textcnn.wide_conv(conv, x), conv(x),
                               rtol=1e-5, atol=1e-5)
