"""Corpora stage: corpora as `Corpus` from local JSON lines or tfds.

Light to import: tensorflow_datasets is imported only on the tfds path.
"""

from kwls_jax.corpora.corpus import Corpus
from kwls_jax.corpora.errors import CorpusError
from kwls_jax.corpora.errors import CorpusUnavailableError
from kwls_jax.corpora.jsonl import read_jsonl
from kwls_jax.corpora.jsonl import write_jsonl
from kwls_jax.corpora.load import load_corpus
from kwls_jax.corpora.load import load_rows
from kwls_jax.corpora.splits import parse_split

__all__ = [
    "Corpus",
    "CorpusError",
    "CorpusUnavailableError",
    "load_corpus",
    "load_rows",
    "parse_split",
    "read_jsonl",
    "write_jsonl",
]
