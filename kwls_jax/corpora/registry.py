"""The known corpora: where tfds keeps each one and how its rows map to text.

`to_text_label` maps one `tfds.as_numpy` example (strings as bytes) to
(text, label id). Corpora with `kind == "rows"` (SQuAD) carry no class label
and are read as raw dicts by `load.load_rows` instead.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from kwls_jax.corpora.errors import CorpusError


def _str(x: Any) -> str:
  return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def _join(*parts: Any) -> str:
  """`title + " " + body`, as the Hugging Face ag_news builder does."""
  return " ".join(_str(p) for p in parts)


def unescape_zhang_csv(text: str) -> str:
  """Undoes the escapes of Zhang et al. (2015) Yelp CSVs: `\\n` -> newline."""
  return text.replace("\\n", "\n")


@dataclasses.dataclass(frozen=True)
class CorpusSpec:
  """How to get one corpus from tfds or a local folder."""

  name: str
  tfds_name: str
  label_names: tuple[str, ...]
  to_text_label: Callable[[Mapping[str, Any]], tuple[str, int]] | None
  local_name: str = ""  # Folder under KWLS_DATA_DIR; defaults to `name`.
  kind: str = "classification"  # or "rows"
  # Local split file name -> tfds split name, where they differ.
  tfds_splits: Mapping[str, str] = dataclasses.field(default_factory=dict)
  # Download URLs (for the reachability check when tfds has no checksums).
  urls: tuple[str, ...] = ()
  # Archives a user may put in tfds' manual_dir instead of downloading.
  manual_files: tuple[str, ...] = ()

  @property
  def folder(self) -> str:
    return self.local_name or self.name


def _ag_news(ex):
  return _join(ex["title"], ex["description"]), int(ex["label"])


def _text_label(ex):
  return _str(ex["text"]), int(ex["label"])


def _yelp_polarity(ex):
  # tfds keeps the raw CSV field: `""` for a quote and `\n` for a newline.
  return unescape_zhang_csv(_str(ex["text"]).replace('""', '"')), int(ex["label"])


def _dbpedia(ex):
  return _join(ex["title"], _str(ex["content"]).strip()), int(ex["label"])


DBPEDIA_14_CLASSES = (
    "Company", "EducationalInstitution", "Artist", "Athlete", "OfficeHolder",
    "MeanOfTransportation", "Building", "NaturalPlace", "Village", "Animal",
    "Plant", "Album", "Film", "WrittenWork")
YELP_FULL_CLASSES = ("1 star", "2 stars", "3 stars", "4 stars", "5 stars")

FAST_AI_S3 = "https://s3.amazonaws.com/fast-ai-nlp/"
DBPEDIA_14_URL = FAST_AI_S3 + "dbpedia_csv.tgz"
YELP_FULL_URL = FAST_AI_S3 + "yelp_review_full_csv.tgz"

CORPORA: dict[str, CorpusSpec] = {
    s.name: s for s in [
        CorpusSpec(
            "ag_news", "ag_news_subset",
            ("World", "Sports", "Business", "Sci/Tech"), _ag_news,
            urls=("https://drive.google.com/uc?export=download&id="
                  "0Bz8a_Dbh9QhbUDNpeUdjb0wxRms",)),
        CorpusSpec(
            "imdb", "imdb_reviews", ("neg", "pos"), _text_label,
            urls=("http://ai.stanford.edu/~amaas/data/sentiment/"
                  "aclImdb_v1.tar.gz",)),
        CorpusSpec(
            "yelp_polarity", "yelp_polarity_reviews", ("neg", "pos"),
            _yelp_polarity,
            urls=(FAST_AI_S3 + "yelp_review_polarity_csv.tgz",)),
        CorpusSpec(
            "squad", "squad/v1.1", (), None, kind="rows",
            tfds_splits={"dev": "validation"},
            urls=("https://rajpurkar.github.io/SQuAD-explorer/dataset/"
                  "dev-v1.1.json",)),
        CorpusSpec(
            "dbpedia_14", "dbpedia_14", DBPEDIA_14_CLASSES, _dbpedia,
            urls=(DBPEDIA_14_URL,),
            manual_files=("dbpedia_csv.tar.gz", "dbpedia_csv.tgz")),
        CorpusSpec(
            "yelp_full", "yelp_full", YELP_FULL_CLASSES, _text_label,
            urls=(YELP_FULL_URL,),
            manual_files=("yelp_review_full_csv.tar.gz",
                          "yelp_review_full_csv.tgz")),
    ]
}

# Builders defined in `kwls_jax.corpora.tfds_builders`, not in tfds' catalog.
OWN_BUILDERS = frozenset({"dbpedia_14", "yelp_full"})


def get_spec(name: str) -> CorpusSpec:
  """The spec of a known corpus; raises CorpusError for an unknown name."""
  try:
    return CORPORA[name]
  except KeyError:
    raise CorpusError(
        f"unknown corpus {name!r}; known: {sorted(CORPORA)}, or give a path "
        "to a .jsonl(.gz) file or a folder of them") from None


def squad_row(ex: Mapping[str, Any]) -> dict:
  """A tfds squad example as a row of shared/datasets `squad/dev.jsonl.gz`."""
  answers = [{"text": _str(t), "answer_start": int(s)}
             for t, s in zip(ex["answers"]["text"],
                             ex["answers"]["answer_start"])]
  first = answers[0] if answers else {"text": "", "answer_start": -1}
  return {
      "id": _str(ex["id"]), "title": _str(ex["title"]),
      "context": _str(ex["context"]), "question": _str(ex["question"]),
      "answer_text": first["text"], "answer_start": first["answer_start"],
      "answers": answers,
  }
