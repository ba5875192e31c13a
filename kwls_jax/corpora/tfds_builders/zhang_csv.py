"""Shared parts of the builders for the CSV archives of Zhang et al. (2015).

Each archive (`<stem>.tar.gz` or `.tgz`) holds `<stem>/train.csv` and
`<stem>/test.csv`, rows quoted with `"` and `""` for an inner quote.
"""

from __future__ import annotations

import csv
import io
from typing import Iterator, Sequence

from etils import epath

CITATION = """\
@inproceedings{zhang2015character,
  title={Character-level Convolutional Networks for Text Classification},
  author={Zhang, Xiang and Zhao, Junbo and LeCun, Yann},
  booktitle={Advances in Neural Information Processing Systems 28},
  pages={649--657},
  year={2015}
}
"""


def manual_instructions(archives: Sequence[str], url: str) -> str:
  return (
      f"Offline, download {url} elsewhere and put it in the tfds manual_dir "
      f"(`tfds build --manual_dir=DIR`, `DownloadConfig(manual_dir=DIR)` or "
      f"`kwls_jax.corpora.load_corpus(..., manual_dir=DIR)`) as one of: "
      f"{', '.join(archives)}. Without it the archive is downloaded.")


def _manual_archive(dl_manager, archives: Sequence[str]) -> epath.Path | None:
  try:
    manual_dir = epath.Path(dl_manager.manual_dir)
  except Exception:  # pylint: disable=broad-except
    return None  # tfds raises when no manual_dir exists; then download.
  for name in archives:
    if (manual_dir / name).exists():
      return manual_dir / name
  return None


def split_generators(dl_manager, generate, archives: Sequence[str], url: str,
                     stem: str) -> dict:
  """{split: generate(csv_path)} from the manual archive, else a download."""
  archive = _manual_archive(dl_manager, archives)
  if archive is not None:
    root = dl_manager.extract(archive)
  else:
    root = dl_manager.download_and_extract(url)
  root = epath.Path(root) / stem
  return {split: generate(root / f"{split}.csv") for split in ("train", "test")}


def read_rows(path: epath.Path, num_fields: int) -> Iterator[tuple[int, list]]:
  """(row index, fields) of a CSV file; checks the field count."""
  with path.open("rb") as raw, io.TextIOWrapper(
      raw, encoding="utf-8", newline="") as f:
    for i, row in enumerate(csv.reader(f)):
      if len(row) != num_fields:
        raise ValueError(
            f"{path}: row {i + 1} has {len(row)} fields, expected {num_fields}")
      yield i, row
