"""train_step / eval_step: the traced alpha switch, logits, data parallel."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np

from kwls_jax.training import config as config_lib
from kwls_jax.training import state as state_lib
from kwls_jax.training import steps


def _setup(alpha=1.0):
  cfg = config_lib.load(None, [], **{
      "model": {"name": "textcnn", "embed_dim": 8, "dropout": 0.0,
                "options": {"num_filters": 4}},
      "method": "kwls", "alpha": alpha,
      "data": {"train": "x.jsonl", "test": "x.jsonl"}})
  st = state_lib.create_state(cfg, 3, 30, 10)
  rng = np.random.default_rng(1)
  batch = {"input_ids": rng.integers(1, 30, (4, 7)).astype(np.int32),
           "attention_mask": np.ones((4, 7), np.int32),
           "labels": np.array([0, 1, 2, 0], np.int32),
           "soft_labels": rng.dirichlet(np.ones(3), 4).astype(np.float32),
           "mask": np.ones(4, np.float32)}
  return st, batch


def _hyper(alpha, start):
  return {"alpha": jnp.float32(alpha), "start_step": jnp.uint32(start)}


def test_alpha_switches_on_at_start_step_without_recompiling():
  mesh = steps.make_mesh(jax.devices()[:1])
  st_a, batch = _setup()
  st_b, _ = _setup()
  step = steps.make_train_step(st_a.graphdef, st_a.treedef, mesh)
  la, lb = [], []
  a, b = jax.device_put((st_a.leaves, st_b.leaves), steps.replicated(mesh))
  for _ in range(3):
    a, loss_a = step(a, batch, _hyper(1.0, 2))  # alpha 0 for steps 0, 1
    b, loss_b = step(b, batch, _hyper(0.0, 0))  # alpha 0 throughout
    la.append(float(loss_a))
    lb.append(float(loss_b))
  assert la[:2] == lb[:2]
  assert abs(la[2] - lb[2]) > 1e-4
  assert step._cache_size() == 1  # pylint: disable=protected-access


def test_eval_step_returns_logits_of_the_model():
  mesh = steps.make_mesh(jax.devices()[:1])
  st, batch = _setup()
  ev = steps.make_eval_step(st.graphdef, st.treedef, mesh)
  logits = ev(st.leaves, {k: batch[k] for k in ("input_ids", "attention_mask")})
  want = st.model()(batch["input_ids"], batch["attention_mask"],
                    deterministic=True)
  np.testing.assert_allclose(logits, want, rtol=1e-6, atol=1e-6)
  assert logits.dtype == jnp.float32 and logits.shape == (4, 3)


_DP_SCRIPT = """
import json, sys
import jax
from kwls_jax.training import config as config_lib, loop
assert jax.device_count() == 2, jax.devices()
cfg = config_lib.load(None, [], **json.loads(sys.argv[1]))
final = loop.train(cfg, sys.argv[2], progress=False)
print(json.dumps({"devices": final["devices"], "test": final["test"]}))
"""


def test_two_device_data_parallel_equals_one_device(tmp_path, make_config,
                                                    two_devices):
  values = make_config(epochs=1)
  proc = two_devices(_DP_SCRIPT, json.dumps(values), tmp_path / "dp2")
  from kwls_jax.training import loop  # pylint: disable=g-import-not-at-top
  one = loop.train(config_lib.load(None, [], **values), str(tmp_path / "dp1"),
                   progress=False)
  out, err = proc.communicate(timeout=120)
  assert proc.returncode == 0, err[-2000:]
  two = json.loads(out.strip().splitlines()[-1])
  assert len(two["devices"]) == 2 and len(one["devices"]) == 1
  for k in ("accuracy", "macro_f1", "nll", "ece"):
    assert np.isclose(two["test"][k], one["test"][k], rtol=1e-5, atol=1e-6), k
  p1 = np.load(tmp_path / "dp1" / "predictions" / "test_probs.npy")
  p2 = np.load(tmp_path / "dp2" / "predictions" / "test_probs.npy")
  np.testing.assert_allclose(p2, p1, rtol=1e-4, atol=1e-5)
  l1 = [r["loss"] for r in _metrics(tmp_path / "dp1") if r["kind"] == "train"]
  l2 = [r["loss"] for r in _metrics(tmp_path / "dp2") if r["kind"] == "train"]
  np.testing.assert_allclose(l2, l1, rtol=1e-5)


def _metrics(run_dir):
  with open(run_dir / "metrics.jsonl", encoding="utf-8") as f:
    return [json.loads(line) for line in f]

