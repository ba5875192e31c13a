"""BERT training throughput (samples/s) on one accelerator with bf16 compute.

Random-init BERT-base (12 x 768, 12 heads, ff 3072, vocab 30522) and
MiniLM-L6 classifiers, batch 64 x length 128, float32 parameters with
bfloat16 activations and matmuls, AdamW, one jitted step with the Eq. 9 loss.
Warmup steps (compilation included) are not timed.

  python benchmarks/gpu_bert_throughput.py                  # on a GPU
  python benchmarks/gpu_bert_throughput.py --steps 2 --batch 2   # CPU smoke

Needs only the package's own dependencies (plus jax[cuda12] on a GPU).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import os
import statistics
import time

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from kwls_jax.models import attention_kernel
from kwls_jax.models import bert
from kwls_jax.training import config as config_lib
from kwls_jax.training import loss as loss_lib
from kwls_jax.training import state as state_lib
import gpu_attention  # benchmarks/, beside this script
import trace_summary

CONFIGS = {"bert-base": bert.BertConfig.bert_base,
           "minilm-l6": bert.BertConfig.minilm_l6}
DTYPES = {"bf16": jnp.bfloat16, "fp32": jnp.float32}
NUM_LABELS = 4
ALPHA = 0.5


def make_tx(name: str):
  """The optimizer of a variant.

  adamw: AdamW 2e-5, weight decay 0.01 (the baseline of every earlier run);
  trainer: what `kwls train` builds for BERT (gradient clipping at global norm
  1, AdamW with the decay mask, warmup + linear decay); flat-adamw: adamw on
  all parameters concatenated into one vector (optax.flatten), one update
  kernel instead of one per parameter; sgd: plain SGD, which shows what the
  step costs without Adam's update.
  """
  if name == "adamw":
    return optax.adamw(2e-5, weight_decay=0.01)
  if name == "flat-adamw":
    return optax.flatten(optax.adamw(2e-5, weight_decay=0.01))
  if name == "sgd":
    return optax.sgd(2e-5)
  if name == "trainer":
    cfg = config_lib.load(None, [], model={"name": "bert"},
                          data={"train": "unused:train", "test": "unused:test"})
    return state_lib.make_optimizer(cfg, total_steps=10_000)
  raise ValueError(f"unknown optimizer {name!r}")


def make_batch(config, batch, length, seed=0):
  """Random token ids (all real tokens), labels and soft labels on device."""
  rng = np.random.default_rng(seed)
  ids = rng.integers(1000, config.vocab_size, size=(batch, length))
  ids[:, 0] = 101  # [CLS]
  labels = rng.integers(0, NUM_LABELS, size=batch)
  soft = rng.dirichlet(np.ones(NUM_LABELS), size=batch)
  return jax.device_put({
      "input_ids": ids.astype(np.int32),
      "attention_mask": np.ones((batch, length), np.int32),
      "labels": labels.astype(np.int32),
      "soft_labels": soft.astype(np.float32),
  })


def make_step(graphdef, treedef, dropout=True):
  """Jitted (leaves, batch) -> (leaves, loss): forward, Eq. 9, AdamW update.

  The state travels as a flat list of arrays: jit's C++ fast path then
  dispatches a step in well under a millisecond (an nnx.State takes ~30 ms).
  """

  @functools.partial(jax.jit, donate_argnums=0)
  def step(leaves, batch):
    model, optimizer = nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))

    def loss_fn(model):
      logits = model(batch["input_ids"], batch["attention_mask"],
                     deterministic=not dropout)
      return loss_lib.eq9_loss(logits, batch["labels"], batch["soft_labels"],
                               ALPHA)

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return jax.tree.leaves(nnx.state((model, optimizer))), loss

  return step


# BERT's GELU: bert.gelu (keeps only its input for the backward pass) or
# jax.nn.gelu under autodiff (keeps three tensors; BERT's GELU before
# 2026-11-28). Both exact erf.
GELUS = {"recompute": bert.gelu,
         "autodiff": lambda x: jax.nn.gelu(x, approximate=False)}


@contextlib.contextmanager
def gelu_impl(name: str):
  """BERT layers built inside take GELUS[name] as their "gelu"."""
  activations = bert._ACTIVATIONS  # pylint: disable=protected-access
  default, activations["gelu"] = activations["gelu"], GELUS[name]
  try:
    yield
  finally:
    activations["gelu"] = default


def build(name, *, batch, length, dtype, attention, dropout, draws, fused_qkv,
          optimizer, remat, gelu="recompute", shapes_only=False):
  """(jitted step, flat state, batch on device) of a variant.

  With shapes_only, the state's leaves are ShapeDtypeStructs (nnx.eval_shape:
  no parameters allocated), for compiling the step without running it.
  """
  config = CONFIGS[name](attention_impl=attention, dropout_draws=draws,
                         fused_qkv=fused_qkv, remat=remat)

  def init():
    with gelu_impl(gelu):  # layers take their activation when built
      model = bert.BertClassifier(config, NUM_LABELS, rngs=nnx.Rngs(0),
                                  dtype=DTYPES[dtype],
                                  param_dtype=jnp.float32)
    return model, nnx.Optimizer(model, make_tx(optimizer), wrt=nnx.Param)

  graphdef, state = nnx.split(nnx.eval_shape(init) if shapes_only else init())
  state, treedef = jax.tree.flatten(state)
  step = make_step(graphdef, treedef, dropout)
  return step, state, make_batch(config, batch, length)


def memory_analysis(step, state, data):
  """XLA's memory figures of one step (temporary buffers, arguments, outputs).

  After the step has run, the executable comes from jit's cache: no
  recompiling.
  """
  return step.lower(state, data).compile().memory_analysis()


def throughput(step, state, data, *, name, batch, steps, warmup, repeats=1,
               profile_dir=None, profile_steps=10):
  """Samples per second of a built step (build()), warmup excluded.

  Returns (median samples/s, samples/s of each of `repeats` timed windows of
  `steps` steps, warmup seconds, last loss, XLA's temporary bytes or None).

  With profile_dir, `profile_steps` more steps run under jax.profiler.trace
  after the timed ones (a Perfetto trace for benchmarks/trace_summary.py).
  """
  start = time.perf_counter()
  for _ in range(warmup):
    state, loss = step(state, data)
  jax.block_until_ready((state, loss))
  compile_s = time.perf_counter() - start
  # XLA's temporary buffers (activations kept for the backward pass among them)
  temp_bytes = getattr(memory_analysis(step, state, data),
                       "temp_size_in_bytes", None)
  windows = []
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(steps):
      state, loss = step(state, data)
    jax.block_until_ready((state, loss))
    windows.append(time.perf_counter() - start)
  if profile_dir:
    try:
      with jax.profiler.trace(profile_dir, create_perfetto_trace=True):
        for _ in range(profile_steps):
          state, loss = step(state, data)
        jax.block_until_ready((state, loss))
    except Exception as e:  # pylint: disable=broad-except  # a profiler fault
      print(f"  profiling failed, throughput unaffected: {e!r}", flush=True)
  if not np.isfinite(float(loss)):
    raise FloatingPointError(f"{name}: loss is {float(loss)}")
  rates = [steps * batch / w for w in windows]
  return statistics.median(rates), rates, compile_s, float(loss), temp_bytes


def _draws_label(draws: str) -> str:
  resolved = bert.dropout_draws(bert.BertConfig(dropout_draws=draws))
  return f"{resolved}(auto)" if draws == "auto" else draws


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--models", default="bert-base,minilm-l6")
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--length", type=int, default=128)
  parser.add_argument("--steps", type=int, default=50,
                      help="timed steps per window")
  parser.add_argument("--repeats", type=int, default=1,
                      help="timed windows; the median is reported")
  parser.add_argument("--warmup", type=int, default=3)
  parser.add_argument("--dtype", choices=list(DTYPES), default="bf16")
  parser.add_argument("--attention", default="einsum",
                      help="einsum (keeps attention dropout), pallas (the "
                      "same, one fused kernel), xla or cudnn (fused, no "
                      "attention dropout); a comma list runs each")
  parser.add_argument("--kernel", default="64x64x4x2",
                      help="the pallas kernel's block_q x block_k x Triton "
                      "warps x stages; a comma list runs each")
  parser.add_argument("--draws", default="auto",
                      help="dropout masks: auto (BERT's default: hash on "
                      "CPU, nnx elsewhere), bits16 (kwls_jax.models.dropout), "
                      "hash (kwls_jax.models.hash_dropout) or nnx "
                      "(nnx.Dropout); a comma list runs each")
  parser.add_argument("--qkv", default="fused",
                      help="fused (one [H, 3H] matmul) or separate; a comma "
                      "list runs each")
  parser.add_argument("--no-dropout", dest="dropout", action="store_false")
  parser.add_argument("--prng", choices=["threefry2x32", "rbg", "unsafe_rbg"],
                      default="threefry2x32",
                      help="PRNG behind dropout masks (jax_default_prng_impl)")
  parser.add_argument("--optimizer", default="adamw",
                      help="adamw (baseline), trainer (kwls train's BERT "
                      "optimizer), flat-adamw (optax.flatten) or sgd; a comma "
                      "list runs each")
  parser.add_argument("--remat", default="none",
                      help="what a layer keeps for the backward pass: none, "
                      "dots, dots_no_batch or nothing (BertConfig.remat); a "
                      "comma list runs each")
  parser.add_argument("--gelu", default="recompute",
                      help="recompute (bert.gelu, the default) or autodiff "
                      "(jax.nn.gelu); a comma list runs each")
  parser.add_argument("--memory-only", action="store_true",
                      help="compile each variant and print XLA's memory "
                      "figures for one step (temporary buffers, arguments, "
                      "outputs) without running it")
  parser.add_argument("--profile", metavar="DIR",
                      help="after timing, trace --profile-steps more steps of "
                      "each variant into DIR/<variant> and print where the "
                      "device time goes (benchmarks/trace_summary.py)")
  parser.add_argument("--profile-steps", type=int, default=10)
  args = parser.parse_args()
  jax.config.update("jax_default_prng_impl", args.prng)
  device = jax.devices()[0]
  print(f"device: {device.platform} {device.device_kind} "
        f"(x{jax.device_count()}), jax {jax.__version__}", flush=True)
  variants = itertools.product(
      args.models.split(","), args.attention.split(","),
      args.draws.split(","), args.qkv.split(","), args.optimizer.split(","),
      args.remat.split(","), args.kernel.split(","), args.gelu.split(","))
  seen = set()
  for name, attention, draws, qkv, opt, remat, kernel, gelu in variants:
    if gelu not in GELUS:
      parser.error(f"--gelu: {gelu!r} is not one of {', '.join(GELUS)}")
    if qkv not in ("fused", "separate"):
      parser.error(f"--qkv: {qkv!r} is not fused or separate")
    if attention != "pallas":
      kernel = ""  # one run, whatever --kernel lists
    else:
      try:
        attention_kernel.KERNEL_OPTIONS.update(
            gpu_attention.kernel_options(kernel))
      except ValueError as e:
        parser.error(f"--kernel: {e}")
    shown = attention + (kernel and f":{kernel}")
    label = f"{name}-{shown}-{draws}-{qkv}-{opt}-{remat}-{gelu}"
    if label in seen:
      continue
    seen.add(label)
    step, state, data = build(
        name, batch=args.batch, length=args.length, dtype=args.dtype,
        attention=attention, dropout=args.dropout, draws=draws,
        fused_qkv=qkv == "fused", optimizer=opt, remat=remat, gelu=gelu)
    if args.memory_only:
      m = memory_analysis(step, state, data)
      print(f"{label} {args.dtype} batch{args.batch} len{args.length}: "
            f"XLA temp {m.temp_size_in_bytes / 2**30:.2f} GiB, arguments "
            f"{m.argument_size_in_bytes / 2**30:.2f} GiB, outputs "
            f"{m.output_size_in_bytes / 2**30:.2f} GiB", flush=True)
      continue
    profile_dir = (os.path.join(args.profile, label) if args.profile
                   else None)
    rate, rates, compile_s, loss, temp_bytes = throughput(
        step, state, data, name=label, batch=args.batch, steps=args.steps,
        warmup=args.warmup, repeats=args.repeats, profile_dir=profile_dir,
        profile_steps=args.profile_steps)
    windows = (f" (windows: {', '.join(f'{r:.1f}' for r in rates)})"
               if len(rates) > 1 else "")
    memory = (f"XLA temp {temp_bytes / 2**30:.2f} GiB, "
              if temp_bytes is not None else "")
    print(f"  {name}: {len(rates)} x {args.steps} steps, "
          f"{args.batch / rate * 1e3:.1f} ms/step{windows}, "
          f"warmup+compile {compile_s:.1f} s, last loss {loss:.4f}, {memory}"
          f"dropout {args.dropout}, prng {args.prng}", flush=True)
    print(f"{name} {args.dtype} batch{args.batch} len{args.length} "
          f"attention={shown} "
          f"draws={_draws_label(draws)} "
          f"qkv={qkv} optimizer={opt} remat={remat} gelu={gelu}"
          f"{'' if args.dropout else ' dropout=off'}: "
          f"{rate:.1f} samples/s", flush=True)  # the median window
    if profile_dir:
      try:
        print(trace_summary.summarize(profile_dir, steps=args.profile_steps),
              flush=True)
      except (OSError, ValueError, KeyError) as e:  # keep the other variants
        print(f"  no profile summary: {e!r}", flush=True)


if __name__ == "__main__":
  main()
