"""benchmarks/deviceless.py: the trainer's steps and the soft-label engine's
programs, built as on another backend and compiled here on the CPU."""

from __future__ import annotations

import types

import jax
import jax.numpy as jnp
import numpy as np

import deviceless  # benchmarks/ (conftest.py)


def test_as_backend_is_seen_while_tracing_and_restored():
  seen = []
  with deviceless.as_backend("tpu"):
    jax.jit(lambda x: seen.append(jax.default_backend()) or x).trace(1.0)
  assert seen == ["tpu"] and jax.default_backend() == "cpu"


def test_hbm_needed_counts_donated_state_once():
  memory = types.SimpleNamespace(
      argument_size_in_bytes=100, output_size_in_bytes=90,
      alias_size_in_bytes=80, temp_size_in_bytes=7)
  assert deviceless.hbm_needed(memory) == 100 + 10 + 7


def test_trainer_steps_built_as_on_an_accelerator_compute_in_bfloat16():
  config = deviceless.train_config("textcnn", batch=4, length=8)
  assert config.model.max_length == 8 and config.optimizer.name == "adam"
  assert config.method == "kwls" and config.alpha == 1.0
  (train, args), (evaluate, eval_args) = deviceless.trainer_steps(
      config, jax.devices()[:1], "tpu")
  leaves, batch, _ = args
  assert batch["input_ids"].shape == (4, 8)
  assert eval_args[1]["input_ids"].shape == (config.eval_batch_size, 8)
  assert {x.dtype for x in jax.tree.leaves(leaves)
          if jnp.issubdtype(x.dtype, jnp.floating)} == {
              jnp.dtype("float32")}  # parameters stay float32
  compiled, _ = deviceless.compile_for(train, args, "tpu")
  assert "bf16[" in compiled.as_text()  # model.dtype auto: bf16 there
  (cpu_train, cpu_args), _ = deviceless.trainer_steps(
      config, jax.devices()[:1], "cpu")
  cpu_compiled, _ = deviceless.compile_for(cpu_train, cpu_args, "cpu")
  assert "bf16[" not in cpu_compiled.as_text()  # float32 on a CPU
  evaluated, _ = deviceless.compile_for(evaluate, eval_args, "tpu")
  assert deviceless.hbm_needed(evaluated.memory_analysis()) > 0


def test_soft_label_programs_compute_the_engines_soft_labels():
  programs = deviceless.soft_label_programs(jax.devices()[0], vocab=8,
                                            labels=3, pairs=16)
  assert [name.split()[0] for name, _, _ in programs] == [
      "word_tables", "chunk_soft_labels"]
  (_, tables, tables_args), (_, chunk, chunk_args) = programs
  assert [a.shape for a in chunk_args[:5]] == [(8, 3), (8,), (16,), (16,),
                                              (16,)]
  rng = np.random.default_rng(0)
  f_label = rng.integers(0, 3, (8, 3)).astype(np.float32)
  wlr, wiw = tables(f_label, (f_label > 0).sum(1).astype(np.float32),
                    np.full(8, 2.0, np.float32), f_label.sum(0),
                    np.float32(5), np.float32(2), np.float32(0.75))
  segment = np.repeat(np.arange(4, dtype=np.int32), 4)
  _, soft = chunk(wlr, wiw, rng.integers(0, 8, 16).astype(np.int32),
                  np.ones(16, np.float32), segment, np.float32(4),
                  np.float32(2))
  np.testing.assert_allclose(np.asarray(soft)[:4].sum(axis=1), 1, rtol=1e-6)


def test_failure_names_the_error_and_its_first_line():
  error = RuntimeError("INTERNAL: no tile sizes\n  at dot.88\n")
  assert deviceless.failure(error) == (
      "FAILED RuntimeError: INTERNAL: no tile sizes")


def test_attempt_reports_a_failure_and_goes_on(capsys):
  assert deviceless.attempt("ok", lambda: 7) == 7
  assert deviceless.attempt("bad", lambda: 1 / 0) is None
  assert capsys.readouterr().out == (
      "bad: FAILED ZeroDivisionError: division by zero\n")
