"""The paper's reported numbers (%), to print beside ours.

Liu et al. 2022, Table 2 (balanced) and Table 4 (unbalanced, "*"): accuracy,
keyed (dataset, model, method) with dataset in ag_news, dbpedia_14, imdb,
yelp_full. Table 3 (ReQA SQuAD): Recall@k, keyed (model, method, "R@k").
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


# Each metric: (BERT, TextCNN, LSTM), each the five methods in METHODS order.
_TABLE3_ROWS = {
    "R@1": ((35.27, 37.46, 37.62, 41.03, 43.87),
            (33.12, 33.18, 34.97, 36.42, 37.25),
            (32.43, 33.12, 34.13, 35.41, 36.96)),
    "R@10": ((48.48, 52.62, 55.89, 61.29, 62.32),
             (41.99, 43.50, 43.87, 47.81, 52.62),
             (40.27, 41.06, 41.28, 45.89, 50.63)),
    "R@50": ((68.21, 71.11, 72.54, 78.45, 79.72),
             (62.56, 62.74, 67.46, 71.61, 76.56),
             (60.42, 63.09, 64.44, 69.35, 74.15)),
    "R@100": ((78.85, 79.52, 80.50, 83.89, 85.28),
              (71.41, 72.01, 73.71, 76.50, 79.13),
              (70.26, 72.05, 72.91, 75.32, 77.56)),
}
TABLE3 = {(model, method, metric): value
          for metric, per_model in _TABLE3_ROWS.items()
          for model, values in zip(_MODELS, per_model)
          for method, value in zip(METHODS, values)}


def paper_recall(model: str, method: str, metric: str) -> float | None:
  """The paper's Table 3 Recall@k for a cell, or None (it reports no MRR)."""
  return TABLE3.get((model, method, metric))
