"""The paper's reported accuracies (%), to print beside ours.

Liu et al. 2022, Table 2 (balanced) and Table 4 (unbalanced, "*"). Keys:
(dataset, model, method) with dataset in ag_news, dbpedia_14, imdb, yelp_full.
"""

from __future__ import annotations

METHODS = ("none", "classic", "distill", "tfidf", "kwls")
_MODELS = ("bert", "textcnn", "lstm")


def _table(rows: dict[str, list[tuple[float, float, float]]]):
  out = {}
  for dataset, per_method in rows.items():
    for method, accs in zip(METHODS, per_method):
      for model, acc in zip(_MODELS, accs):
        out[(dataset, model, method)] = acc
  return out


# Each row: (BERT, TextCNN, LSTM) for none, LS-Classic, LS-Distill, LS-TFIDF, KWLS.
TABLE2 = _table({
    "ag_news": [(94.08, 88.88, 87.02), (94.17, 89.37, 87.93),
                (94.37, 89.56, 88.17), (94.42, 90.11, 90.13),
                (95.13, 91.07, 90.85)],
    "dbpedia_14": [(99.30, 98.48, 98.71), (99.35, 98.52, 98.77),
                   (99.40, 98.63, 98.80), (99.41, 98.86, 98.84),
                   (99.65, 99.12, 99.13)],
    "imdb": [(93.21, 91.62, 91.03), (93.29, 91.70, 91.26),
             (93.47, 91.76, 91.36), (93.65, 92.10, 91.73),
             (94.26, 92.43, 92.55)],
    "yelp_full": [(69.54, 64.38, 64.03), (69.68, 64.53, 64.12),
                  (69.70, 64.76, 64.27), (69.81, 65.02, 64.92),
                  (70.08, 65.89, 65.68)],
})

TABLE4 = _table({
    "ag_news": [(76.34, 72.62, 72.06), (76.82, 72.76, 72.38),
                (76.92, 72.84, 72.81), (78.12, 73.61, 73.87),
                (79.94, 74.45, 74.04)],
    "dbpedia_14": [(97.27, 95.30, 95.28), (97.60, 95.85, 95.44),
                   (98.14, 96.04, 95.53), (98.25, 97.09, 96.85),
                   (98.41, 97.21, 97.35)],
    "imdb": [(50.02, 48.73, 48.31), (54.10, 50.59, 50.89),
             (54.60, 52.86, 52.92), (56.31, 55.49, 55.14),
             (60.62, 57.93, 57.81)],
    "yelp_full": [(51.69, 49.04, 48.19), (52.40, 52.18, 51.36),
                  (54.52, 53.07, 52.48), (56.54, 54.10, 53.14),
                  (58.81, 56.91, 56.43)],
})


def paper_accuracy(table: str, dataset: str, model: str,
                   method: str) -> float | None:
  """The paper's accuracy for a cell, or None where it reports none."""
  source = {"table2": TABLE2, "table4": TABLE4}.get(table, {})
  return source.get((dataset, model, method))
