"""Training throughput (samples/s) of `kwls train`'s own step, next to PyTorch.

TextCNN, BiLSTM, MiniLM-L6 and BERT-base (random init), batch 64 x length 128.
The state and the jitted step are the trainer's (state.create_state,
steps.make_train_step) for the model's resolved `kwls train` config: its
optimizer, the Eq. 9 loss with soft labels, dropout on, bf16 compute on a GPU
or TPU and float32 on a CPU (model.dtype auto). Where torch and transformers
are importable, the same model in PyTorch (transformers'
BertForSequenceClassification for the BERTs) is timed in the same process on
the same kind of device. Warmup steps (compilation included) are not timed.

  python benchmarks/train_throughput.py --quick                  # CPU smoke
  python benchmarks/train_throughput.py --models bert-base --steps 100 \\
      --repeats 3 --torch-compile                               # on a GPU
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time

import jax
import numpy as np

from kwls_jax.models import bert
from kwls_jax import provenance
from kwls_jax.training import config as config_lib
from kwls_jax.training import state as state_lib
from kwls_jax.training import steps as steps_lib

NUM_LABELS, VOCAB, TOTAL_STEPS = 4, 30522, 10_000
MODELS = {  # benchmark name -> the config's `model` section
    "textcnn": {"name": "textcnn"},
    "lstm": {"name": "lstm"},
    "minilm-l6": {"name": "bert", "preset": "minilm-l6"},
    "bert-base": {"name": "bert", "preset": "bert-base"},
}


def machine() -> str:
  """Device, CPU model, cores and JAX's version."""
  usable = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count())
  device = jax.devices()[0]
  return (f"device: {device.platform} {device.device_kind} "
          f"(x{jax.device_count()}); CPU {provenance.cpu_model()}, "
          f"{os.cpu_count()} cores ({usable} usable); jax {jax.__version__}")


def train_config(name: str, batch: int, length: int, dtype: str):
  """The resolved `kwls train` config of a benchmark model (method kwls)."""
  model = {**MODELS[name], "max_length": length, "dtype": dtype}
  if model["name"] == "bert":
    model["vocab"] = "random-init"  # no checkpoint: the preset, random init
  return config_lib.load(None, [], model=model, method="kwls",
                         batch_size=batch, data={"train": "-", "test": "-"})


def make_batch(batch: int, length: int, seed: int = 0) -> dict:
  """Random tokens (all real), labels and soft labels; the trainer's keys."""
  rng = np.random.default_rng(seed)
  ids = rng.integers(1000, VOCAB, size=(batch, length)).astype(np.int32)
  return {
      "input_ids": ids,
      "attention_mask": np.ones((batch, length), np.int32),
      "labels": rng.integers(0, NUM_LABELS, size=batch).astype(np.int32),
      "soft_labels": rng.dirichlet(np.ones(NUM_LABELS),
                                   size=batch).astype(np.float32),
      "mask": np.ones(batch, np.float32),
  }


def timed_windows(step, sync, warmup: int, steps: int, repeats: int):
  """(seconds per step of each window, warmup seconds, last loss); step()
  runs one step, sync() waits for the device and returns the loss."""
  start = time.perf_counter()
  for _ in range(warmup):
    step()
  sync()
  warmup_s = time.perf_counter() - start
  windows = []
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(steps):
      step()
    loss = sync()
    windows.append((time.perf_counter() - start) / steps)
  if not np.isfinite(loss):
    raise FloatingPointError(f"loss is {loss}")
  return windows, warmup_s, loss


def jax_run(cfg, data: dict, warmup: int, steps: int, repeats: int):
  """Seconds per step of the trainer's own step (as loop.train builds it)."""
  st = state_lib.create_state(cfg, NUM_LABELS, VOCAB, TOTAL_STEPS)
  mesh = steps_lib.make_mesh()
  train_step = steps_lib.make_train_step(st.graphdef, st.treedef, mesh,
                                         cfg.two_head)
  rep = steps_lib.replicated(mesh)
  box = {"leaves": jax.device_put(st.leaves, rep), "loss": None}
  batch = jax.device_put(data, steps_lib.data_sharded(mesh))
  hyper = jax.device_put({"alpha": np.float32(cfg.alpha),
                          "start_step": np.uint32(cfg.soft_label_start_step)},
                         rep)

  def step():
    box["leaves"], box["loss"] = train_step(box["leaves"], batch, hyper)

  result = timed_windows(step, lambda: float(box["loss"]), warmup, steps,
                         repeats)
  memory = train_step.lower(box["leaves"], batch, hyper).compile() \
      .memory_analysis()
  return (*result, getattr(memory, "temp_size_in_bytes", None))


def torch_model(name: str):
  """The PyTorch model of a benchmark name, (ids, mask) -> logits."""
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
      del mask  # full-length rows
      h, _ = self.lstm(self.dropout(self.embed(ids)))
      return self.out(self.dropout(torch.cat([h.mean(1), h.amax(1)], -1)))

  class Bert(nn.Module):

    def __init__(self):
      super().__init__()
      import transformers  # pylint: disable=g-import-not-at-top
      c = getattr(bert.BertConfig, name.replace("-", "_"))()
      self.net = transformers.BertForSequenceClassification(
          transformers.BertConfig(
              vocab_size=c.vocab_size, hidden_size=c.hidden_size,
              num_hidden_layers=c.num_hidden_layers,
              num_attention_heads=c.num_attention_heads,
              intermediate_size=c.intermediate_size, num_labels=NUM_LABELS))

    def forward(self, ids, mask):
      return self.net(input_ids=ids, attention_mask=mask).logits

  return {"textcnn": TextCNN, "lstm": BiLSTM}.get(name, Bert)()


def torch_run(name: str, cfg, data: dict, warmup: int, steps: int,
              repeats: int, compile_model: bool):
  """Seconds per step of the same model, loss (Eq. 9) and optimizer in
  PyTorch, on CUDA if torch sees a GPU, in bf16 autocast where JAX uses bf16."""
  import torch  # pylint: disable=g-import-not-at-top
  device = "cuda" if torch.cuda.is_available() else "cpu"
  if device == "cpu":
    torch.set_num_threads(os.cpu_count())
  model = torch_model(name).to(device).train()
  o = cfg.optimizer
  opt = (torch.optim.AdamW(model.parameters(), lr=o.learning_rate,
                           weight_decay=o.weight_decay) if o.name == "adamw"
         else torch.optim.Adam(model.parameters(), lr=o.learning_rate))
  forward = torch.compile(model) if compile_model else model
  bf16 = state_lib.compute_dtype(cfg.model.dtype) is not None
  ids = torch.from_numpy(data["input_ids"]).long().to(device)
  mask = torch.from_numpy(data["attention_mask"]).long().to(device)
  if name == "textcnn":
    mask = mask.float()
  labels = torch.nn.functional.one_hot(
      torch.from_numpy(data["labels"]).long(), NUM_LABELS).float().to(device)
  soft = torch.from_numpy(data["soft_labels"]).to(device)
  box = {}

  def step():
    opt.zero_grad(set_to_none=True)
    with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
      logits = forward(ids, mask).float()
    n, p = logits.shape
    total = (labels * torch.log_softmax(logits, -1)).sum() - (
        cfg.alpha / p) * ((soft - torch.softmax(logits, -1)) ** 2).sum()
    loss = -total / (2 * n * (1 + cfg.alpha) ** 2)  # Eq. 9
    loss.backward()
    if o.grad_clip_norm:
      torch.nn.utils.clip_grad_norm_(model.parameters(), o.grad_clip_norm)
    opt.step()
    box["loss"] = loss.detach()

  return (*timed_windows(step, lambda: float(box["loss"]), warmup, steps,
                         repeats), None)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--models", default=",".join(MODELS))
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--length", type=int, default=128)
  parser.add_argument("--dtype", choices=config_lib.DTYPES, default="auto",
                      help="model.dtype (auto: bf16 on GPU/TPU, float32 on "
                      "CPU); also the PyTorch baseline's autocast")
  parser.add_argument("--steps", type=int, default=5,
                      help="timed steps per window")
  parser.add_argument("--repeats", type=int, default=1,
                      help="timed windows; samples/s is their median")
  parser.add_argument("--warmup", type=int, default=2)
  parser.add_argument("--quick", action="store_true",
                      help="TextCNN and MiniLM-L6 at batch 8 x 32, 1 warmup "
                      "step and 1 timed step")
  parser.add_argument("--no-torch", dest="torch", action="store_false")
  parser.add_argument("--torch-compile", action="store_true",
                      help="torch.compile the PyTorch model")
  parser.add_argument("--markdown", help="also write a Markdown table (with "
                      "command, commit, date and machine) to this path")
  args = parser.parse_args()
  if args.quick:
    args.models, args.batch, args.length = "textcnn,minilm-l6", 8, 32
    args.steps, args.warmup, args.repeats = 1, 1, 1
  names = args.models.split(",")
  unknown = sorted(set(names) - set(MODELS))
  if unknown:
    parser.error(f"--models: unknown {unknown}; one of {list(MODELS)}")
  has_torch = args.torch and importlib.util.find_spec("torch") is not None
  print(machine() + (", torch " + __import__("torch").__version__
                     if has_torch else ", no torch baseline"), flush=True)
  data = make_batch(args.batch, args.length)
  rows = []
  for name in names:
    cfg = train_config(name, args.batch, args.length, args.dtype)
    dtype = "bf16" if state_lib.compute_dtype(cfg.model.dtype) else "fp32"
    runs = [("jax", lambda: jax_run(cfg, data, args.warmup, args.steps,
                                    args.repeats))]
    if has_torch and (name in ("textcnn", "lstm")
                      or importlib.util.find_spec("transformers")):
      framework = "torch.compile" if args.torch_compile else "torch"
      runs.append((framework, lambda: torch_run(
          name, cfg, data, args.warmup, args.steps, args.repeats,
          args.torch_compile)))
    for framework, run in runs:
      windows, warmup_s, loss, temp = run()
      step_s = statistics.median(windows)
      rows.append((name, framework, dtype, args.batch / step_s, step_s))
      spread = (" (windows: " + ", ".join(f"{args.batch / w:.1f}"
                                           for w in windows) + ")"
                if len(windows) > 1 else "")
      memory = f", XLA temp {temp / 2**30:.2f} GiB" if temp else ""
      print(f"{name} {framework} {dtype} batch{args.batch} len{args.length}: "
            f"{args.batch / step_s:.1f} samples/s{spread} "
            f"({step_s * 1e3:.1f} ms/step, warmup {warmup_s:.1f} s, "
            f"loss {loss:.4f}{memory})", flush=True)
  if args.markdown:
    write_markdown(args, rows)


FRAMEWORKS = {"jax": "kwls_jax (`kwls train`'s step)", "torch": "PyTorch",
              "torch.compile": "PyTorch, torch.compile"}


def write_markdown(args, rows) -> None:
  """A table of the rows under a provenance header."""
  argv = [a for a in sys.argv[1:] if not a.startswith("--markdown")
          and a != args.markdown]
  lines = [f"# Training throughput, batch {args.batch} x length {args.length}",
           "", provenance.header("python benchmarks/train_throughput.py "
                                 + " ".join(argv), []).rstrip("\n"),
           "- " + machine(),
           *([f"- baseline: torch {sys.modules['torch'].__version__}"]
             if "torch" in sys.modules else []), "",
           f"`kwls train`'s jitted step (forward, Eq. 9 loss, the trainer's "
           f"optimizer, dropout on), {args.warmup} warmup steps not timed, "
           f"median of {args.repeats} window(s) of {args.steps} timed steps; "
           f"random init, random tokens.", "",
           "| model | implementation | compute | samples/s | ms/step |",
           "|---|---|---|---:|---:|"]
  lines += [f"| {name} | {FRAMEWORKS[fw]}"
            f"{' + transformers' if fw != 'jax' and 'bert' in MODELS[name]['name'] else ''}"
            f" | {dtype} | {rate:.1f} | {step_s * 1e3:.0f} |"
            for name, fw, dtype, rate, step_s in rows]
  with open(args.markdown, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
  main()
