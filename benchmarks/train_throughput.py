"""CPU training throughput (samples/s) of our models, with PyTorch baselines.

TextCNN, BiLSTM, MiniLM-L6 and BERT-base classifiers (random init) at batch
64 x length 128 in float32: one jitted train step with the Eq. 9 loss and
AdamW, warmup steps (compilation included) not timed. Where torch is
importable, an equivalent PyTorch model (transformers' BertForSequenceClassification
for the BERTs) is timed in the same process as a baseline.

  python benchmarks/train_throughput.py --quick
  python benchmarks/train_throughput.py --models textcnn,lstm --no-torch
  python benchmarks/train_throughput.py --models minilm-l6 --old-bert
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import sys
import time

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from kwls_jax import models
from kwls_jax.models import bert
from kwls_jax import provenance
from kwls_jax.training import loss as loss_lib

NUM_LABELS, ALPHA, VOCAB = 4, 0.5, 30522
MODELS = ("textcnn", "lstm", "minilm-l6", "bert-base")
JAX_CONFIGS = {
    "textcnn": ("textcnn", dict(vocab_size=VOCAB, embed_dim=300)),
    "lstm": ("lstm", dict(vocab_size=VOCAB, embed_dim=300, hidden_size=256)),
    "minilm-l6": ("bert", dict(preset="minilm-l6")),
    "bert-base": ("bert", dict(preset="bert-base")),
}


def machine() -> str:
  """CPU model, cores and library versions."""
  cpu = provenance.cpu_model()
  usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
      else os.cpu_count()
  return (f"machine: {cpu}, {os.cpu_count()} cores ({usable} usable), "
          f"jax {jax.__version__} ({jax.devices()[0].platform})")


def make_batch(batch, length, seed=0):
  rng = np.random.default_rng(seed)
  return {
      "input_ids": rng.integers(1000, VOCAB, size=(batch, length)).astype(np.int32),
      "attention_mask": np.ones((batch, length), np.int32),
      "labels": rng.integers(0, NUM_LABELS, size=batch).astype(np.int32),
      "soft_labels": rng.dirichlet(np.ones(NUM_LABELS),
                                   size=batch).astype(np.float32),
  }


def _timed(step, state, steps, warmup):
  """Seconds per step after warmup; step(state) -> (state, loss)."""
  for _ in range(warmup):
    state, loss = step(state)
  jax.block_until_ready(loss)
  start = time.perf_counter()
  for _ in range(steps):
    state, loss = step(state)
  jax.block_until_ready(loss)
  return (time.perf_counter() - start) / steps, float(loss)


# BERT's defaults before 16-bit dropout draws and the fused q/k/v matmul.
OLD_BERT = dict(dropout_draws="nnx", fused_qkv=False)


def jax_step_time(name, data, steps, warmup, **options):
  """(seconds per step, last loss) of our NNX model."""
  kind, cfg = JAX_CONFIGS[name]
  model = models.create_model(kind, NUM_LABELS, nnx.Rngs(0),
                              **{**cfg, **options})
  optimizer = nnx.Optimizer(model, optax.adamw(1e-4), wrt=nnx.Param)
  graphdef, state = nnx.split((model, optimizer))
  leaves, treedef = jax.tree.flatten(state)
  data = jax.device_put(data)

  @functools.partial(jax.jit, donate_argnums=0)
  def step(leaves):
    model, optimizer = nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))

    def loss_fn(model):
      logits = model(data["input_ids"], data["attention_mask"])
      return loss_lib.eq9_loss(logits, data["labels"], data["soft_labels"],
                               ALPHA)

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return jax.tree.leaves(nnx.state((model, optimizer))), loss

  return _timed(step, leaves, steps, warmup)


def torch_step_time(name, data, steps, warmup):
  """(seconds per step, last loss) of the equivalent PyTorch model."""
  import torch  # pylint: disable=g-import-not-at-top
  from torch import nn  # pylint: disable=g-import-not-at-top

  class TextCNN(nn.Module):

    def __init__(self):
      super().__init__()
      self.embed = nn.Embedding(VOCAB, 300, padding_idx=0)
      self.convs = nn.ModuleList(
          [nn.Conv1d(300, 100, w, padding=w - 1) for w in (3, 4, 5)])
      self.dropout = nn.Dropout(0.5)
      self.out = nn.Linear(300, NUM_LABELS)

    def forward(self, ids, mask):
      x = (self.embed(ids) * mask[..., None]).transpose(1, 2)
      h = [torch.relu(c(x)).amax(dim=-1) for c in self.convs]
      return self.out(self.dropout(torch.cat(h, -1)))

  class BiLSTM(nn.Module):

    def __init__(self):
      super().__init__()
      self.embed = nn.Embedding(VOCAB, 300, padding_idx=0)
      self.lstm = nn.LSTM(300, 256, batch_first=True, bidirectional=True)
      self.dropout = nn.Dropout(0.5)
      self.out = nn.Linear(1024, NUM_LABELS)

    def forward(self, ids, mask):
      h, _ = self.lstm(self.dropout(self.embed(ids)))  # Full-length rows.
      pooled = torch.cat([h.mean(1), h.amax(1)], -1)
      return self.out(self.dropout(pooled))

  if name in ("textcnn", "lstm"):
    model = TextCNN() if name == "textcnn" else BiLSTM()
  else:
    import transformers  # pylint: disable=g-import-not-at-top
    c = getattr(bert.BertConfig, name.replace("-", "_"))()
    hf = transformers.BertConfig(
        vocab_size=c.vocab_size, hidden_size=c.hidden_size,
        num_hidden_layers=c.num_hidden_layers,
        num_attention_heads=c.num_attention_heads,
        intermediate_size=c.intermediate_size, num_labels=NUM_LABELS)
    net = transformers.BertForSequenceClassification(hf)
    model = lambda ids, mask: net(input_ids=ids, attention_mask=mask).logits
    model.parameters = net.parameters
    model.train = net.train
  model.train()
  opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
  ids = torch.from_numpy(data["input_ids"]).long()
  mask = torch.from_numpy(data["attention_mask"]).long()
  labels = torch.nn.functional.one_hot(
      torch.from_numpy(data["labels"]).long(), NUM_LABELS).float()
  soft = torch.from_numpy(data["soft_labels"])

  def step(_):
    opt.zero_grad(set_to_none=True)
    logits = model(ids, mask.float() if name == "textcnn" else mask)
    o = torch.softmax(logits, -1)
    n, p = logits.shape
    total = (labels * torch.log_softmax(logits, -1)).sum() - (
        ALPHA / p) * ((soft - o) ** 2).sum()
    loss = -total / (2 * n * (1 + ALPHA) ** 2)  # Eq. 9.
    loss.backward()
    opt.step()
    return None, loss.detach().numpy()

  torch.set_num_threads(os.cpu_count())
  return _timed(step, None, steps, warmup)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--models", default=",".join(MODELS))
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--length", type=int, default=128)
  parser.add_argument("--steps", type=int, default=5, help="timed steps")
  parser.add_argument("--warmup", type=int, default=2)
  parser.add_argument("--quick", action="store_true",
                      help="1 warmup step and 1 timed step")
  parser.add_argument("--no-torch", dest="torch", action="store_false")
  parser.add_argument("--markdown", help="also write a Markdown table (with "
                      "command, commit, date and machine) to this path")
  parser.add_argument("--old-bert", action="store_true",
                      help="also time BERT with nnx.Dropout and three q/k/v "
                      "matmuls (its defaults before 16-bit draws and fusing)")
  args = parser.parse_args()
  if args.quick:
    args.steps, args.warmup = 1, 1
  has_torch = args.torch and importlib.util.find_spec("torch") is not None
  print(machine() + (", torch " + __import__("torch").__version__
                     if has_torch else ", no torch baseline"), flush=True)
  data = make_batch(args.batch, args.length)
  rows = []
  for name in args.models.split(","):
    runs = [("jax", jax_step_time)]
    if args.old_bert and JAX_CONFIGS[name][0] == "bert":
      runs.append(("jax-old", functools.partial(jax_step_time, **OLD_BERT)))
    if has_torch and (name in ("textcnn", "lstm")
                      or importlib.util.find_spec("transformers")):
      runs.append(("torch", torch_step_time))
    for framework, timer in runs:
      step_s, loss = timer(name, data, args.steps, args.warmup)
      rows.append((name, framework, args.batch / step_s, step_s))
      print(f"{name} {framework} fp32 batch{args.batch} len{args.length}: "
            f"{args.batch / step_s:.1f} samples/s ({step_s * 1e3:.0f} ms/step, "
            f"{args.steps} steps, loss {loss:.4f})", flush=True)
  if args.markdown:
    write_markdown(args, rows)


FRAMEWORKS = {"jax": "kwls_jax (Flax NNX)",
              "jax-old": "kwls_jax, nnx.Dropout + 3 q/k/v matmuls",
              "torch": "PyTorch"}


def write_markdown(args, rows) -> None:
  """A table of the rows under a provenance header."""
  argv = [a for a in sys.argv[1:] if not a.startswith("--markdown")
          and a != args.markdown]
  lines = [f"# Training throughput on this CPU, batch {args.batch} x length "
           f"{args.length}, float32", "",
           provenance.header("python benchmarks/train_throughput.py "
                             + " ".join(argv), []).rstrip("\n"),
           *([f"- baseline: torch {sys.modules['torch'].__version__}"]
             if "torch" in sys.modules else []), "",
           f"One jitted step (forward, Eq. 9 loss, AdamW update, dropout on), "
           f"{args.warmup} warmup steps (compilation included) not timed, "
           f"mean of {args.steps} timed steps; random init, random tokens.", "",
           "| model | implementation | samples/s | ms/step |",
           "|---|---|---:|---:|"]
  lines += [f"| {name} | {FRAMEWORKS[fw]}"
            f"{' + transformers' if fw == 'torch' and 'bert' in JAX_CONFIGS[name][0] else ''}"
            f" | {rate:.1f} | {step_s * 1e3:.0f} |"
            for name, fw, rate, step_s in rows]
  with open(args.markdown, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
  main()
