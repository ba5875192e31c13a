"""Reads and writes corpora as JSON lines (`.jsonl` or `.jsonl.gz`).

Each line is one object with `text` (str) and `label` (an int id, or a list of
int ids for multi-label rows). Class names come from a `labels.json` (a JSON
list of names in label-id order) beside the file, when there is one.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from typing import Any, Iterator, Sequence

import numpy as np

from kwls_jax.atomic import atomic_open
from kwls_jax.corpora.corpus import Corpus
from kwls_jax.corpora.errors import CorpusError

LABELS_FILE = "labels.json"
_SUFFIXES = (".jsonl.gz", ".jsonl")


def split_name_of(path: str | os.PathLike) -> str:
  """`/d/imdb/train.jsonl.gz` -> `train`."""
  base = os.path.basename(os.fspath(path))
  for suffix in _SUFFIXES:
    if base.endswith(suffix):
      return base[:-len(suffix)]
  return base


def read_label_names(path: str | os.PathLike) -> list[str]:
  """Class names from a `labels.json` file."""
  path = os.fspath(path)
  try:
    with open(path, "rb") as f:
      names = json.loads(f.read().decode("utf-8"))
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
    raise CorpusError(f"{path}: cannot read label names: {e}") from e
  if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
    raise CorpusError(f"{path}: must be a JSON list of class-name strings")
  if len(set(names)) != len(names):
    raise CorpusError(f"{path}: duplicate class names in {names}")
  return names


def _open(path: str) -> io.BufferedReader:
  """`path` as a binary stream, gunzipped when it ends in .gz.

  ISA-L (python-isal) inflates about 3x faster than zlib, in a thread of its
  own that runs beside the JSON parsing; the standard gzip module serves where
  isal is not installed.
  """
  if path.endswith(".gz"):
    try:
      from isal import igzip_threaded  # pylint: disable=g-import-not-at-top
    except ImportError:
      return io.BufferedReader(gzip.GzipFile(path, "rb"), 1 << 20)
    return igzip_threaded.open(path, "rb", threads=1)
  return io.BufferedReader(open(path, "rb"), 1 << 20)  # pylint: disable=consider-using-with


def _lines(path: str) -> Iterator[tuple[int, str]]:
  """(1-based line number, decoded line), streamed: memory stays O(one line).

  Lines end at b"\n" only: U+0085 and U+2028 are text, as in JSON. Bad UTF-8
  names its line.
  """
  try:
    with _open(path) as f:
      yielded = 0
      for line_no, raw in enumerate(f, 1):
        if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
          raw = raw[3:]
          if not raw:  # a file of a byte-order mark alone is empty
            continue
        yielded += 1
        try:
          yield line_no, raw.decode("utf-8")
        except UnicodeDecodeError as e:
          raise CorpusError(
              f"{path}:{line_no}: not UTF-8: bytes {raw[e.start:e.end]!r} "
              f"({e.reason})") from None
  except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
    raise CorpusError(f"{path}: cannot read: {e}") from e
  if not yielded:
    raise CorpusError(f"{path}: empty file, expected one JSON object a line")


def iter_jsonl_rows(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
  """Yields (1-based line number, JSON object) for every line of `path`."""
  path = os.fspath(path)
  loads = json.loads
  for i, line in _lines(path):
    try:
      row = loads(line)
    except json.JSONDecodeError as e:
      if not line.strip():
        raise CorpusError(
            f"{path}:{i}: blank line, expected a JSON object") from None
      raise CorpusError(
          f"{path}:{i}: invalid JSON: {e.msg} (column {e.colno})") from None
    if type(row) is not dict:  # pylint: disable=unidiomatic-typecheck
      raise CorpusError(
          f"{path}:{i}: not a JSON object: got {type(row).__name__}")
    yield i, row


def _is_int(x: Any) -> bool:
  return type(x) is int  # pylint: disable=unidiomatic-typecheck


def _check_label(path: str, line_no: int, label: Any) -> bool:
  """Checks a label's type; returns True for a multi-label list."""
  if _is_int(label):
    return False
  if type(label) is list and all(_is_int(x) for x in label):  # pylint: disable=unidiomatic-typecheck
    return True
  raise CorpusError(
      f"{path}:{line_no}: 'label' must be an int or a list of ints, got "
      f"{json.dumps(label)[:80]} ({type(label).__name__})")


def _resolve_names(path: str, num_labels: int | None,
                   label_names: Sequence[str] | None) -> list[str] | None:
  """Names from the argument or a `labels.json` beside `path`, else None."""
  if label_names is None:
    names_path = os.path.join(os.path.dirname(path), LABELS_FILE)
    if os.path.exists(names_path):
      label_names = read_label_names(names_path)
  if label_names is None:
    return None
  label_names = [str(n) for n in label_names]
  if num_labels is not None and num_labels != len(label_names):
    raise CorpusError(
        f"{path}: num_labels={num_labels} but {len(label_names)} label names "
        f"{label_names}")
  return label_names


def _parse_row(path: str, line_no: int, row: dict) -> tuple[str, Any]:
  """(text, label) of one row, type-checked."""
  try:
    text, label = row["text"], row["label"]
  except KeyError as e:
    raise CorpusError(f"{path}:{line_no}: missing key {e}") from None
  if type(text) is not str:  # pylint: disable=unidiomatic-typecheck
    raise CorpusError(
        f"{path}:{line_no}: 'text' must be a string, got "
        f"{type(text).__name__}")
  if not _is_int(label):
    _check_label(path, line_no, label)
  return text, label


class JsonlReader:
  """Streams a corpus file as blocks of texts; the labels gather on the side.

  Lets a consumer work on one block while the next is parsed, without ever
  holding all texts:

      reader = JsonlReader(path)
      for texts in reader.blocks():
        ...
      labels, label_names = reader.labels()
  """

  def __init__(self, path: str | os.PathLike, num_labels: int | None = None,
               label_names: Sequence[str] | None = None,
               block_chars: int = 1 << 21):
    self.path = os.fspath(path)
    self._names = _resolve_names(self.path, num_labels, label_names)
    self._num_labels = num_labels
    self._block_chars = block_chars
    self._labels: list[Any] = []
    self._multi = False
    self._done = False

  def blocks(self) -> Iterator[list[str]]:
    """Lists of texts of about `block_chars` characters, in file order."""
    texts, size, block_chars = [], 0, self._block_chars
    path, labels = self.path, self._labels
    for line_no, row in iter_jsonl_rows(path):
      text, label = _parse_row(path, line_no, row)
      if not _is_int(label):
        self._multi = True
      texts.append(text)
      labels.append(label)
      size += len(text) + 1
      if size >= block_chars:
        yield texts
        texts, size = [], 0
    if texts:
      yield texts
    self._done = True

  def labels(self) -> tuple[np.ndarray, list[str]]:
    """Label ids [N] (or multi-hot [N, P]) and class names, range-checked."""
    if not self._done:
      raise RuntimeError("labels() before blocks() was exhausted")
    path, labels, names = self.path, self._labels, self._names
    num_labels = self._num_labels
    if num_labels is None and names is not None:
      num_labels = len(names)
    try:
      flat, row_of = _flat_ids(labels, self._multi)
    except OverflowError:
      _check_int64(path, labels)
      raise
    _check_range(path, flat, row_of, labels, num_labels, names is not None)
    if num_labels is None:
      num_labels = int(flat.max()) + 1 if flat.size else 0
    if names is None:
      names = [str(i) for i in range(num_labels)]
    if self._multi:
      out = np.zeros((len(labels), num_labels), dtype=bool)
      out[row_of, flat] = True
    else:
      out = flat
    return out, names

  def corpus(self, texts: list[str]) -> Corpus:
    """A Corpus of `texts` (all rows, or [] when streamed) and the labels."""
    labels, names = self.labels()
    return Corpus(
        texts=texts, labels=labels, label_names=names,
        name=os.path.basename(os.path.dirname(os.path.abspath(self.path))),
        split=split_name_of(self.path), source=f"local:{self.path}")


def read_jsonl(path: str | os.PathLike, num_labels: int | None = None,
               label_names: Sequence[str] | None = None) -> Corpus:
  """Reads a corpus; see the module docstring for the format.

  Args:
    path: a `.jsonl` or `.jsonl.gz` file.
    num_labels: P, when there is no `labels.json`; else checked against it.
    label_names: class names; overrides a `labels.json` beside the file.

  Returns:
    A Corpus with int64 labels [N], or bool multi-hot labels [N, P] when any
    row's label is a list.

  Raises:
    CorpusError: `"{path}:{line}: ..."` for the first bad line.
  """
  reader = JsonlReader(path, num_labels, label_names, block_chars=1 << 62)
  texts = [t for block in reader.blocks() for t in block]
  return reader.corpus(texts)


def _flat_ids(labels: list, multi: bool) -> tuple[np.ndarray, np.ndarray]:
  """All label ids as int64, and the row of each."""
  if not multi:
    return np.asarray(labels, dtype=np.int64), np.arange(len(labels))
  ids = [x if type(x) is list else [x] for x in labels]  # pylint: disable=unidiomatic-typecheck
  flat = np.fromiter((x for row in ids for x in row), np.int64)
  return flat, np.repeat(np.arange(len(ids)), [len(r) for r in ids])


def _check_int64(path, labels):
  """Raises for the first label id that does not fit in int64."""
  limit = 2**63
  for i, label in enumerate(labels):
    for x in (label if type(label) is list else [label]):  # pylint: disable=unidiomatic-typecheck
      if not -limit <= x < limit:
        raise CorpusError(f"{path}:{i + 1}: label id {x} out of range")


def _check_range(path, flat, row_of, labels, num_labels, from_names):
  """Raises for the first label id < 0 or >= num_labels, naming its line."""
  bad = flat < 0
  if num_labels is not None:
    bad |= flat >= num_labels
  if not bad.any():
    return
  k = int(np.argmax(bad))
  line_no = int(row_of[k]) + 1  # No blank lines, so row i is line i + 1.
  if num_labels is None:
    why = "label ids must be >= 0"
  else:
    where = "labels.json / label_names" if from_names else "num_labels"
    why = f"valid ids are 0..{num_labels - 1} ({num_labels} classes from {where})"
  raise CorpusError(
      f"{path}:{line_no}: label id {int(flat[k])} out of range: {why}; "
      f"label was {json.dumps(labels[line_no - 1])}")


def write_jsonl(path: str | os.PathLike, corpus: Corpus,
                write_label_names: bool = True) -> None:
  """Writes `corpus` as JSON lines, atomically; gzip (mtime 0) for `.gz` paths.

  Multi-label rows are written as lists of ids. With `write_label_names`,
  a `labels.json` beside the file holds `corpus.label_names`.
  """
  path = os.fspath(path)
  labels = np.asarray(corpus.labels)
  if labels.ndim == 2:
    label_list = [np.flatnonzero(row).tolist() for row in labels]
  else:
    label_list = labels.astype(np.int64).tolist()
  dumps = json.dumps
  data = "".join(
      dumps({"text": t, "label": l}, ensure_ascii=False) + "\n"
      for t, l in zip(corpus.texts, label_list)).encode("utf-8")
  if path.endswith(".gz"):
    data = gzip.compress(data, mtime=0)
  with atomic_open(path, "wb") as f:  # an interrupted write leaves no file
    f.write(data)
  if write_label_names:
    folder = os.path.dirname(os.path.abspath(path))
    with atomic_open(os.path.join(folder, LABELS_FILE)) as f:
      json.dump(list(corpus.label_names), f, ensure_ascii=False, indent=1)
      f.write("\n")
