"""Checkpoint leaves by name: a state loads by its tree paths, not positions."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from kwls_jax.training import state as state_lib


def _state(names, values):
  return state_lib.TrainState(None, None, [np.asarray(v, np.float32)
                                           for v in values], list(names))


def test_same_shape_leaves_load_by_name_in_any_order():
  saved = state_lib.to_host(_state(["0/a/kernel", "0/b/kernel"],
                                   [[1.0, 2.0], [3.0, 4.0]]))
  target = _state(["0/b/kernel", "0/a/kernel"], [[0.0, 0.0], [0.0, 0.0]])
  cpu = jax.sharding.SingleDeviceSharding(jax.devices("cpu")[0])
  b, a = state_lib.from_host(saved, target, cpu)
  np.testing.assert_array_equal(a, [1.0, 2.0])
  np.testing.assert_array_equal(b, [3.0, 4.0])


def test_a_checkpoint_of_other_names_is_refused():
  saved = {"00000": np.zeros(2, np.float32), "00001": np.ones(2, np.float32)}
  target = _state(["0/a/kernel", "0/b/kernel"], [[0.0, 0.0], [0.0, 0.0]])
  cpu = jax.sharding.SingleDeviceSharding(jax.devices("cpu")[0])
  with pytest.raises(ValueError, match=r"missing \['0/a/kernel', "
                     r"'0/b/kernel'\], unexpected \['00000', '00001'\]"):
    state_lib.from_host(saved, target, cpu)


def test_names_are_the_state_tree_paths(make_config):
  from kwls_jax.training import config as config_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.load(None, [], **make_config())
  st = state_lib.create_state(config, 3, 50, 10)
  assert len(set(st.names)) == len(st.names) == len(st.leaves)
  assert "0/embed/embedding/value" in st.names
  assert "1/opt_state/0/mu/embed/embedding/value" in st.names
