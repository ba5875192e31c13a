"""KWLS with X_m = training questions (this experiment, "kwls") against KWLS
with X_m = the candidate's sentence (results/table3, "kwls_sentence"),
TextCNN, paired by fold, in the report's KWLS-against-each-method table.

Run from the repository root: python results/table3_label_doc/compare.py
"""
import dataclasses
import glob

from kwls_jax.reporting import retrieval_report as rr, tables


def runs(experiment: str):
  return [rr.read_run(p.rsplit("/", 1)[0]) for p in sorted(glob.glob(
      f"results/{experiment}/runs/squad/reqa/fold*/seed0/textcnn/kwls/final.json"))]


records = runs("table3_label_doc") + [
    dataclasses.replace(r, method="kwls_sentence") for r in runs("table3")]
print("# KWLS' label document X_m: the training questions (KWLS) against the sentence\n\n"
      "KWLS: this experiment's runs; kwls_sentence: results/table3's KWLS runs. "
      "The two tests are described in table.md.\n")
comps = rr.kwls_comparisons(rr.cells(records))
print(rr._markdown(rr.COMPARISON_COLUMNS, rr.comparison_rows(comps),  # pylint: disable=protected-access
                  "lll" + "r" * 6 + "l"))
print(tables.comparisons_note(), end="")
