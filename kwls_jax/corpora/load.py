"""`load_corpus`: a corpus by name from a local folder, else from tfds.

Precedence for a registry name (see `registry.CORPORA`):
1. `<data_dir>/<name>/<split>.jsonl.gz` (or `.jsonl`) with `labels.json`, where
   `data_dir` defaults to $KWLS_DATA_DIR, when every split named in the spec
   has its file there; slices such as `test[:75%]` are then cut locally.
2. tfds (`builder.download_and_prepare` + `as_dataset`), the spec passed on.
   A download first checks that its hosts answer (`offline.py`).
`name` may also be a path to a `.jsonl(.gz)` file or to a folder of them.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Iterator

import numpy as np

from kwls_jax.corpora import offline
from kwls_jax.corpora import registry
from kwls_jax.corpora.corpus import Corpus
from kwls_jax.corpora.errors import CorpusError
from kwls_jax.corpora.errors import CorpusUnavailableError
from kwls_jax.corpora.jsonl import iter_jsonl_rows
from kwls_jax.corpora.jsonl import LABELS_FILE
from kwls_jax.corpora.jsonl import read_jsonl
from kwls_jax.corpora.splits import format_split
from kwls_jax.corpora.splits import parse_split
from kwls_jax.corpora.splits import slice_indices
from kwls_jax.corpora.splits import SplitPart

DATA_DIR_ENV = "KWLS_DATA_DIR"
_EXTENSIONS = (".jsonl.gz", ".jsonl")

log = logging.getLogger(__name__)


def default_data_dir(data_dir: str | os.PathLike | None = None) -> str | None:
  """`data_dir`, else $KWLS_DATA_DIR, else None; a path that is not a folder
  is an error (it would otherwise be passed over for a download)."""
  given = data_dir is not None and os.fspath(data_dir) != ""
  path = os.fspath(data_dir) if given else os.environ.get(DATA_DIR_ENV, "")
  if not path:
    return None
  if not os.path.isdir(path):
    raise CorpusError(
        f"data dir {path!r} ({'given' if given else '$' + DATA_DIR_ENV}) is "
        "not a folder; it should hold <corpus>/<split>.jsonl.gz and "
        "labels.json, as ../shared/datasets does")
  return path


def split_file(folder: str, split_name: str,
               aliases: dict[str, str] | None = None) -> str | None:
  """The file of `split_name` (or a local alias of it) in `folder`, if any."""
  names = [split_name] + [k for k, v in (aliases or {}).items()
                          if v == split_name]
  for name in names:
    for ext in _EXTENSIONS:
      path = os.path.join(folder, name + ext)
      if os.path.isfile(path):
        return path
  return None


def _local_files(folder: str, parts: list[SplitPart],
                 aliases: dict[str, str]) -> list[str] | None:
  files = [split_file(folder, p.split_name, aliases) for p in parts]
  return None if None in files else files


def _concat(corpora: list[Corpus], **fields) -> Corpus:
  """One corpus of all rows, in order; label names must agree."""
  names = corpora[0].label_names
  for c in corpora[1:]:
    if c.label_names != names:
      raise CorpusError(
          f"label names differ: {c.source} has {c.label_names}, "
          f"{corpora[0].source} has {names}")
  if len(corpora) == 1:
    labels = corpora[0].labels
  elif any(c.multi_label for c in corpora):
    labels = np.concatenate([c.multi_hot() for c in corpora])
  else:
    labels = np.concatenate([c.labels for c in corpora])
  texts = [t for c in corpora for t in c.texts]
  return Corpus(texts=texts, labels=labels, label_names=list(names), **fields)


def _read_local(files: list[str], parts: list[SplitPart], reader: Callable,
                name: str, split: str) -> Corpus:
  cache: dict[str, Corpus] = {}
  pieces = []
  for path, part in zip(files, parts):
    if path not in cache:
      cache[path] = reader(path)
    whole = cache[path]
    pieces.append(whole.select(slice_indices(part, len(whole))))
  sources = sorted(set(files))
  source = sources[0] if len(sources) == 1 else os.path.dirname(sources[0])
  return _concat(pieces, name=name, split=split, source=f"local:{source}")


def _load_path(path: str, split: str | None, reader: Callable) -> Corpus:
  """A corpus from a `.jsonl(.gz)` file or a folder of split files."""
  spec = split or "train"
  parts = parse_split(spec)
  if not os.path.exists(path):
    raise CorpusError(f"{path}: no such corpus file or folder")
  if os.path.isfile(path):
    # A file is one split: the spec's slice applies, its split name does not.
    if len(parts) != 1:
      raise CorpusError(f"{path}: one file cannot serve split {spec!r}")
    parts = [parts[0]._replace(split_name="file")]
    name = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return _read_local([path], parts, reader, name, spec)
  files = [split_file(path, p.split_name) for p in parts]
  if None in files:
    have = sorted(f for f in os.listdir(path) if f.endswith(_EXTENSIONS))
    raise CorpusError(
        f"{path}: no file for split {spec!r}; found {have}")
  name = os.path.basename(os.path.abspath(path))
  return _read_local(files, parts, reader, name, spec)


def _is_path(name: str) -> bool:
  if name in registry.CORPORA:
    return False
  return os.sep in name or name.endswith(_EXTENSIONS) or os.path.exists(name)


def _tfds_split(spec: registry.CorpusSpec, split: str) -> str:
  """The split spec for tfds, with local split names mapped (squad dev)."""
  if not spec.tfds_splits:
    return split
  parts = parse_split(split)
  return format_split([
      p._replace(split_name=spec.tfds_splits.get(p.split_name, p.split_name))
      for p in parts])


def _has_manual_archive(manual_dir, files) -> bool:
  return bool(manual_dir) and any(
      os.path.isfile(os.path.join(manual_dir, f)) for f in files)


def tfds_examples(spec: registry.CorpusSpec, split: str,
                  tfds_data_dir: str | None = None,
                  manual_dir: str | None = None,
                  probe_timeout: float | None = None) -> tuple[Any, Iterator]:
  """(tfds builder, numpy examples of `split`); prepares the data if needed."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  if spec.tfds_name in registry.OWN_BUILDERS:
    import kwls_jax.corpora.tfds_builders  # pylint: disable=g-import-not-at-top,unused-import
  builder = tfds.builder(spec.tfds_name, data_dir=tfds_data_dir)
  if not builder.is_prepared():
    if not _has_manual_archive(manual_dir, spec.manual_files):
      urls = list(builder.url_infos or ()) or list(spec.urls)
      offline.check_downloadable(spec.name, spec.tfds_name, urls,
                                 probe_timeout, spec.manual_files)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
  ds = builder.as_dataset(split=_tfds_split(spec, split), shuffle_files=False)
  return builder, tfds.as_numpy(ds)


def _registry_reader(spec: registry.CorpusSpec) -> Callable[[str], Corpus]:
  """read_jsonl with the registry's class names unless labels.json is there."""
  def read(path: str) -> Corpus:
    if os.path.exists(os.path.join(os.path.dirname(path), LABELS_FILE)):
      return read_jsonl(path, num_labels=len(spec.label_names))
    return read_jsonl(path, label_names=spec.label_names)
  return read


def load_corpus(name: str, split: str = "train",
                data_dir: str | os.PathLike | None = None,
                tfds_data_dir: str | None = None, *,
                manual_dir: str | None = None,
                probe_timeout: float | None = None) -> Corpus:
  """Loads a labelled corpus; see the module docstring for where from.

  Args:
    name: a registry name (`ag_news`, `imdb`, ...), the name of a folder of
      the user's own in `data_dir` (`<data_dir>/<name>/<split>.jsonl.gz` and
      labels.json), or a path to a `.jsonl(.gz)` file or a folder holding
      `<split>.jsonl(.gz)` files.
    split: tfds-style spec, e.g. `train`, `test[:75%]`, `train+test[:10%]`.
    data_dir: folder of local corpora; defaults to $KWLS_DATA_DIR.
    tfds_data_dir: tfds' data_dir (default: tfds' own default).
    manual_dir: tfds manual_dir holding an original archive.
    probe_timeout: seconds for the download reachability check.

  Returns:
    The Corpus; `source` is `local:<path>` or `tfds:<tfds name>`.
  """
  if _is_path(name):
    return _load_path(os.fspath(name), split, read_jsonl)
  root = default_data_dir(data_dir)
  if name not in registry.CORPORA and root is not None and os.path.isdir(
      os.path.join(root, name)):  # a corpus of the user's own, by name
    corpus = _load_path(os.path.join(root, name), split, read_jsonl)
    corpus.name = name
    return corpus
  spec = registry.get_spec(name)
  if spec.kind != "classification":
    raise CorpusError(
        f"corpus {name!r} has question/answer rows, not class labels: it is "
        "read for retrieval (kwls_jax.corpora.load_rows), not for training")
  parts = parse_split(split)
  folder = None
  if root is not None:
    folder = os.path.join(root, spec.folder)
    files = _local_files(folder, parts, spec.tfds_splits)
    if files is not None:
      log.info("corpus %s[%s] from %s", name, split, folder)
      return _read_local(files, parts, _registry_reader(spec), spec.name,
                         split)
  log.info("corpus %s[%s] from tfds %s", name, split, spec.tfds_name)
  try:
    builder, examples = tfds_examples(spec, split, tfds_data_dir, manual_dir,
                                      probe_timeout)
  except CorpusUnavailableError as e:
    if folder is None or not os.path.isdir(folder):
      raise
    # A local copy without the split asked for (a typo?): say so first.
    have = sorted({f.split(".")[0] for f in os.listdir(folder)
                   if f.endswith(_EXTENSIONS)})
    raise CorpusUnavailableError(
        f"{folder} has no file for split {split!r} (it has: "
        f"{', '.join(have) or 'none'}), and {e}") from None
  num_classes = builder.info.features["label"].num_classes
  if num_classes != len(spec.label_names):
    raise CorpusError(
        f"tfds {spec.tfds_name} has {num_classes} classes, registry "
        f"{name!r} has {len(spec.label_names)}")
  texts, labels = [], []
  for ex in examples:
    text, label = spec.to_text_label(ex)
    texts.append(text)
    labels.append(label)
  return Corpus(texts=texts, labels=np.asarray(labels, dtype=np.int64),
                label_names=list(spec.label_names), name=spec.name,
                split=split, source=f"tfds:{spec.tfds_name}")


def load_rows(name: str, split: str = "train",
              data_dir: str | os.PathLike | None = None,
              tfds_data_dir: str | None = None, *,
              manual_dir: str | None = None,
              probe_timeout: float | None = None) -> list[dict]:
  """Raw rows (dicts) of a corpus, e.g. SQuAD for retrieval; same precedence.

  Local rows are the JSON objects as stored; tfds SQuAD rows get the keys of
  shared/datasets `squad/dev.jsonl.gz` (`registry.squad_row`).
  """
  spec = registry.get_spec(name)
  parts = parse_split(split)
  root = default_data_dir(data_dir)
  files = None
  if root is not None:
    files = _local_files(os.path.join(root, spec.folder), parts,
                         spec.tfds_splits)
  if files is not None:
    rows = []
    for path, part in zip(files, parts):
      whole = [row for _, row in iter_jsonl_rows(path)]
      rows.extend(whole[i] for i in slice_indices(part, len(whole)))
    return rows
  _, examples = tfds_examples(spec, split, tfds_data_dir, manual_dir,
                              probe_timeout)
  if spec.kind == "rows":
    return [registry.squad_row(ex) for ex in examples]
  return [dict(zip(("text", "label"), spec.to_text_label(ex)))
          for ex in examples]
