"""How soft are the soft labels? A table and a figure per corpus and method.

    python -m kwls_jax.reporting.soft_label_summary --out-md S.md --out-png S.png \\
        CORPUS.jsonl.gz:METHOD:SOFT.npy [...]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

import numpy as np

from kwls_jax.corpora.jsonl import read_jsonl
from kwls_jax.reporting import provenance


@dataclasses.dataclass
class Row:
  corpus: str
  method: str
  n: int
  p: int
  mass_on_hard: float  # mean d_i at the hard label(s)
  argmax_agrees: float  # fraction with argmax d_i in the hard labels
  entropy: float  # mean entropy in nats
  hard_mass: np.ndarray  # per instance, for the histogram


def summarize(corpus_path: str, method: str, soft_path: str) -> Row:
  """Statistics of one soft-label matrix against its hard labels."""
  corpus = read_jsonl(corpus_path)
  soft = np.load(soft_path)
  if soft.shape != (len(corpus), corpus.num_labels):
    raise ValueError(f"{soft_path}: shape {soft.shape} does not match "
                     f"{corpus_path} ({len(corpus)} rows, {corpus.num_labels} "
                     "labels)")
  hard = corpus.multi_hot()
  mass = (soft * hard).sum(1)
  agrees = hard[np.arange(len(soft)), soft.argmax(1)]
  entropy = -(soft * np.log(np.clip(soft, 1e-30, None))).sum(1)
  name = f"{corpus.name}/{corpus.split}"
  return Row(name, method, len(corpus), corpus.num_labels, float(mass.mean()),
             float(agrees.mean()), float(entropy.mean()), mass)


def to_markdown(rows: list[Row]) -> str:
  lines = ["| corpus | method | N | P | mean d at hard label | argmax = hard "
           "| mean entropy (nats) |", "|---|---|---:|---:|---:|---:|---:|"]
  for r in rows:
    lines.append(f"| {r.corpus} | {r.method} | {r.n:,} | {r.p} | "
                 f"{r.mass_on_hard:.4f} | {r.argmax_agrees:.4f} | "
                 f"{r.entropy:.4f} |")
  return "\n".join(lines) + "\n"


def plot(rows: list[Row], path: str) -> None:
  """Histograms of the soft-label mass on the hard label, one panel a corpus."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  corpora = list(dict.fromkeys(r.corpus for r in rows))
  fig, axes = plt.subplots(1, len(corpora), figsize=(5 * len(corpora), 3.6),
                           squeeze=False)
  bins = np.linspace(0, 1, 41)
  for ax, corpus in zip(axes[0], corpora):
    for r in rows:
      if r.corpus == corpus:
        ax.hist(r.hard_mass, bins=bins, histtype="step", linewidth=1.5,
                label=r.method, density=True)
    ax.set_title(corpus)
    ax.set_xlabel("soft-label mass on the hard label")
    ax.set_ylabel("density")
    ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("items", nargs="+", metavar="CORPUS:METHOD:SOFT.npy")
  parser.add_argument("--out-md", required=True)
  parser.add_argument("--out-png", required=True)
  parser.add_argument("--command", default="snakemake --cores all",
                      help="the command that produced the inputs, recorded")
  args = parser.parse_args(argv)
  rows = []
  for item in args.items:
    corpus_path, method, soft_path = item.rsplit(":", 2)
    rows.append(summarize(corpus_path, method, soft_path))
  os.makedirs(os.path.dirname(os.path.abspath(args.out_md)), exist_ok=True)
  with open(args.out_md, "w", encoding="utf-8") as f:
    f.write("# Soft labels of the shared corpora\n\n")
    f.write(provenance.header(
        args.command, [item.rsplit(":", 2)[0] for item in args.items]))
    f.write("\n" + to_markdown(rows))
  plot(rows, args.out_png)
  return 0


if __name__ == "__main__":
  sys.exit(main())
