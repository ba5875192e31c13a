"""The authors' two-head variant of Eq. 9 (config two_head: true)."""

from __future__ import annotations

import os

import jax.numpy as jnp
import numpy as np

from kwls_jax.training import checkpoint
from kwls_jax.training import config as config_lib
from kwls_jax.training import loop
from kwls_jax.training import steps
from kwls_jax.training.metrics import softmax


def test_split_heads():
  x = jnp.arange(12.0).reshape(2, 6)
  ce, soft = steps.split_heads(x, True)
  assert ce.shape == soft.shape == (2, 3) and float(soft[0, 0]) == 3.0
  same, same2 = steps.split_heads(x, False)
  assert same is x and same2 is x


def test_two_head_run_predicts_from_the_first_head(tmp_path, make_config):
  """The saved test probabilities are the softmax of the model's first P
  outputs, and not of the last P (the soft-label head), which disagree."""
  values = make_config(method="kwls", two_head=True, epochs=2)
  config = config_lib.load(None, [], **values)
  run_dir = str(tmp_path / "run")
  final = loop.train(config, run_dir, progress=False)
  probs = np.load(os.path.join(run_dir, "predictions", "test_probs.npy"))
  p = final["num_labels"]
  run = loop.prepare(config, run_dir, need_soft=False)
  mngr = checkpoint.manager(run_dir)
  assert loop.restore_latest(run, mngr)["step"] == final["steps"]
  mngr.close()
  test = run.splits["test"]
  outputs = np.asarray(run.state.model()(
      jnp.asarray(test.input_ids), jnp.asarray(test.attention_mask),
      deterministic=True))
  assert outputs.shape == (len(test), 2 * p)
  np.testing.assert_allclose(probs, softmax(outputs[:, :p]), atol=1e-5)
  assert np.abs(probs - softmax(outputs[:, p:])).max() > 0.05
