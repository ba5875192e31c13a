"""Writes the dummy archives that test our tfds builders (invented rows only).

Run from anywhere: `python tests/corpora/make_dummy_data.py`. Output is byte
for byte reproducible (fixed tar metadata, gzip mtime 0):

  dummy_data/<builder>/<stem>.tar.gz        the archive, as in a manual_dir
  dummy_data/<builder>/download/<stem>/...  the same files, extracted, as a
                                            mocked `download_and_extract` gives
"""

import csv
import gzip
import io
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
DUMMY_DIR = os.path.join(HERE, "dummy_data")

# label (1-based), title, content; content starts with a space as in the
# original DBpedia CSV. Invented text.
DBPEDIA_14 = {
    "train": [
        (1, "Quillfeather Ltd", " Quillfeather Ltd is a made-up maker of "
         "\"smart\" pens, founded 1999."),
        (3, "Ana Zébulon", " Ana Zébulon is an invented painter, known for "
         "blue, green and grey canvases."),
        (9, "Little Mossby", " Little Mossby is a fictional village."),
        (14, "The Paper Lantern", " The Paper Lantern is an imaginary "
         "novel."),
    ],
    "test": [
        (2, "Brightwater Academy", " Brightwater Academy is a school that "
         "does not exist."),
        (12, "Echoes, Vol. 2", " Echoes, Vol. 2 is a pretend album."),
    ],
}
DBPEDIA_14_CLASSES = [
    "Company", "EducationalInstitution", "Artist", "Athlete", "OfficeHolder",
    "MeanOfTransportation", "Building", "NaturalPlace", "Village", "Animal",
    "Plant", "Album", "Film", "WrittenWork"]

# label (1-5), text with the original escapes: `\n` for a newline.
YELP_FULL = {
    "train": [
        (1, "Cold soup, rude staff.\\nNever again."),
        (2, "The \"special\" was not special."),
        (3, "Fine. Just fine."),
        (4, "Great tacos, slow service.\\n\\nWould return."),
        (5, "Best bakery in this invented town!"),
    ],
    "test": [
        (5, "Loved it, ten out of ten."),
        (1, "Waited an hour; food was cold."),
        (3, "Okay-ish, a backslash \\\\ stays."),
    ],
}


def _csv_bytes(rows, quoting) -> bytes:
  buf = io.StringIO()
  csv.writer(buf, quoting=quoting, lineterminator="\n").writerows(rows)
  return buf.getvalue().encode("utf-8")


def _write_tree(root: str, files: dict[str, bytes]) -> None:
  for rel, data in files.items():
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
      f.write(data)


def _write_tar_gz(path: str, files: dict[str, bytes]) -> None:
  """A .tar.gz with fixed metadata, so reruns give the same bytes."""
  raw = io.BytesIO()
  with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
    dirs = sorted({os.path.dirname(rel) for rel in files})
    for d in dirs:
      info = tarfile.TarInfo(d)
      info.type, info.mode = tarfile.DIRTYPE, 0o755
      tar.addfile(info)
    for rel in sorted(files):
      info = tarfile.TarInfo(rel)
      info.size, info.mode = len(files[rel]), 0o644
      tar.addfile(info, io.BytesIO(files[rel]))
  with open(path, "wb") as f:
    f.write(gzip.compress(raw.getvalue(), mtime=0))


def _write_builder(out_dir: str, builder: str, stem: str,
                   files: dict[str, bytes]) -> None:
  folder = os.path.join(out_dir, builder)
  os.makedirs(folder, exist_ok=True)
  files = {f"{stem}/{k}": v for k, v in files.items()}
  _write_tar_gz(os.path.join(folder, f"{stem}.tar.gz"), files)
  _write_tree(os.path.join(folder, "download"), files)


def main(out_dir: str = DUMMY_DIR) -> None:
  """Writes the dummy data of both builders under `out_dir`."""
  _write_builder(out_dir, "dbpedia_14", "dbpedia_csv", {
      "train.csv": _csv_bytes(DBPEDIA_14["train"], csv.QUOTE_NONNUMERIC),
      "test.csv": _csv_bytes(DBPEDIA_14["test"], csv.QUOTE_NONNUMERIC),
      "classes.txt": "".join(c + "\n" for c in DBPEDIA_14_CLASSES).encode(),
  })
  _write_builder(out_dir, "yelp_full", "yelp_review_full_csv", {
      "train.csv": _csv_bytes(YELP_FULL["train"], csv.QUOTE_ALL),
      "test.csv": _csv_bytes(YELP_FULL["test"], csv.QUOTE_ALL),
  })


if __name__ == "__main__":
  main()
