"""KWLS with X_m = training questions (this experiment) against KWLS with
X_m = the candidate's sentence (results/table3), TextCNN, paired by fold.

Run from the repository root: python results/table3_label_doc/compare.py
"""
import dataclasses
import glob

from kwls_jax.reporting import retrieval_report as rr, tables


def runs(experiment: str) -> list[tables.Record]:
  return [rr.read_run(p.rsplit("/", 1)[0]) for p in sorted(glob.glob(
      f"results/{experiment}/runs/squad/reqa/fold*/seed0/textcnn/kwls/final.json"))]


records = runs("table3") + [dataclasses.replace(r, method="kwls_questions")
                            for r in runs("table3_label_doc")]
print("| metric | Δ (questions - sentence) | per fold | p (paired t) | "
      "p (corrected t) | MDE (corrected) |")
print("|---|---:|---|---:|---:|---:|")
for metric in rr.METRICS:
  cells = {c.method: c for c in tables.aggregate(records, metric)}
  c = tables.compare(cells["kwls_questions"], cells["kwls"])
  print(f"| {metric} | {c.delta:+.2f} | "
        f"{', '.join(f'{d:+.2f}' for d in c.diffs)} (folds {c.folds}) | "
        f"{c.p_paired:.3f} | {c.p_corrected:.3f} | {c.mde_corrected:.2f} |")
