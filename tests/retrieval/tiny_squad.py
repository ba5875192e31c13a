"""A synthetic SQuAD-like input: articles of paragraphs of word sentences,
each question made of some of its answer sentence's words plus fillers."""

from __future__ import annotations

import gzip
import json
import pathlib

import numpy as np

WORDS = ("apple river stone cloud tiger piano garden silver engine forest "
         "candle bridge meadow rocket violin desert harbor copper winter "
         "lantern falcon marble orchard thunder velvet glacier canyon "
         "saddle beacon pepper").split()
FILLERS = ("what which who where is was the of does".split())


def rows(articles: int = 8, paragraphs: int = 2, sentences: int = 4,
         questions: int = 2, seed: int = 0) -> list[dict]:
  """SQuAD rows ({id, title, context, question, answers, ...}) in file order."""
  rng = np.random.default_rng(seed)
  out = []
  for a in range(articles):
    for p in range(paragraphs):
      sents = [list(rng.choice(WORDS, 5, replace=False))
               for _ in range(sentences)]
      texts = [" ".join(s).capitalize() + "." for s in sents]
      context = " ".join(texts)
      for i, words in enumerate(sents):
        answer = texts[i][:-1]
        for j in range(questions):
          asked = list(rng.choice(words, 3, replace=False))
          question = " ".join([str(rng.choice(FILLERS)), *asked]) + "?"
          start = context.index(answer)
          out.append({"id": f"a{a}p{p}s{i}q{j}", "title": f"Article {a}",
                      "context": context, "question": question,
                      "answer_text": answer, "answer_start": start,
                      "answers": [{"text": answer, "answer_start": start}]})
  return out


def write(path: pathlib.Path, **kw) -> pathlib.Path:
  """rows(**kw) as a gzip JSON-lines file at `path`."""
  with gzip.open(path, "wt", encoding="utf-8") as f:
    for r in rows(**kw):
      f.write(json.dumps(r) + "\n")
  return path
