"""The authors' two-head variant of Eq. 9 (config two_head: true)."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from kwls_jax.training import config as config_lib
from kwls_jax.training import loop
from kwls_jax.training import state as state_lib
from kwls_jax.training import steps


def test_split_heads():
  x = jnp.arange(12.0).reshape(2, 6)
  ce, soft = steps.split_heads(x, True)
  assert ce.shape == soft.shape == (2, 3) and float(soft[0, 0]) == 3.0
  same, same2 = steps.split_heads(x, False)
  assert same is x and same2 is x


def test_two_head_run_predicts_from_the_first_head(tmp_path, make_config):
  values = make_config(method="kwls", two_head=True, epochs=2)
  config = config_lib.load(None, [], **values)
  final = loop.train(config, str(tmp_path / "run"), progress=False)
  probs = np.load(os.path.join(tmp_path, "run", "predictions",
                               "test_probs.npy"))
  p = final["num_labels"]
  assert probs.shape[1] == p  # the soft head is not a prediction
  np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
  # The model itself has 2P outputs.
  state = state_lib.create_state(config_lib.resolve(config), p, 100, 10)
  ids = jnp.ones((2, 8), jnp.int32)
  assert state.model()(ids, jnp.ones((2, 8), jnp.int32),
                       deterministic=True).shape == (2, 2 * p)
