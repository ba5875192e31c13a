"""read_jsonl / write_jsonl / iter_jsonl_rows on small files."""

import gzip
import json

import numpy as np
import pytest

from kwls_jax.corpora import Corpus
from kwls_jax.corpora import CorpusError
from kwls_jax.corpora import read_jsonl
from kwls_jax.corpora import write_jsonl
from kwls_jax.corpora.jsonl import iter_jsonl_rows


def _write(path, lines, labels=None, raw=None):
  """Writes JSON lines (objects or raw strings); optional labels.json."""
  data = raw if raw is not None else "".join(
      (l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines
  ).encode("utf-8")
  if str(path).endswith(".gz"):
    data = gzip.compress(data)
  path.write_bytes(data)
  if labels is not None:
    (path.parent / "labels.json").write_text(json.dumps(labels))
  return path


@pytest.mark.parametrize("name", ["train.jsonl", "train.jsonl.gz"])
def test_reads_texts_labels_and_names(tmp_path, name):
  path = _write(tmp_path / name,
                [{"text": "a", "label": 1}, {"text": "", "label": 0},
                 {"text": "c é", "label": 2, "extra": [1]}],
                labels=["x", "y", "z"])
  c = read_jsonl(path)
  assert c.texts == ["a", "", "c é"]
  assert c.labels.dtype == np.int64
  np.testing.assert_array_equal(c.labels, [1, 0, 2])
  assert c.label_names == ["x", "y", "z"]
  assert (c.name, c.split, c.source) == (tmp_path.name, "train",
                                         f"local:{path}")


def test_num_labels_without_labels_json(tmp_path):
  path = _write(tmp_path / "t.jsonl", [{"text": "a", "label": 1}])
  assert read_jsonl(path).label_names == ["0", "1"]
  assert read_jsonl(path, num_labels=4).label_names == ["0", "1", "2", "3"]
  assert read_jsonl(path, label_names=["n", "p"]).label_names == ["n", "p"]


def test_label_names_argument_overrides_labels_json(tmp_path):
  path = _write(tmp_path / "t.jsonl", [{"text": "a", "label": 1}],
                labels=["a", "b", "c"])
  assert read_jsonl(path, label_names=["n", "p"]).label_names == ["n", "p"]


def test_num_labels_must_agree_with_labels_json(tmp_path):
  path = _write(tmp_path / "t.jsonl", [{"text": "a", "label": 0}],
                labels=["a", "b"])
  with pytest.raises(CorpusError, match=r"num_labels=3 but 2 label names"):
    read_jsonl(path, num_labels=3)


def test_multi_label_rows_become_multi_hot(tmp_path):
  path = _write(tmp_path / "t.jsonl",
                [{"text": "a", "label": 0}, {"text": "b", "label": [1, 3]},
                 {"text": "c", "label": []}, {"text": "d", "label": [2, 2]}],
                labels=["p0", "p1", "p2", "p3"])
  c = read_jsonl(path)
  assert c.multi_label and c.labels.dtype == bool
  np.testing.assert_array_equal(
      c.labels, [[1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0]])


def test_multi_label_size_from_max_id(tmp_path):
  path = _write(tmp_path / "t.jsonl", [{"text": "a", "label": [4]}])
  assert read_jsonl(path).labels.shape == (1, 5)


def test_line_separators_inside_text_do_not_split_lines(tmp_path):
  texts = ["a\u2028b", "c\x85d\re", "f\u2029"]
  path = _write(tmp_path / "t.jsonl",
                [json.dumps({"text": t, "label": 0}, ensure_ascii=False)
                 for t in texts])
  assert read_jsonl(path).texts == texts


def test_crlf_bom_and_missing_final_newline(tmp_path):
  raw = ('\ufeff{"text": "a", "label": 0}\r\n'
         '{"text": "b", "label": 1}').encode("utf-8")
  c = read_jsonl(_write(tmp_path / "t.jsonl", None, raw=raw))
  assert c.texts == ["a", "b"]


def test_iter_jsonl_rows_numbers_lines(tmp_path):
  path = _write(tmp_path / "t.jsonl", [{"text": "a"}, {"q": 1}])
  assert list(iter_jsonl_rows(path)) == [(1, {"text": "a"}), (2, {"q": 1})]


GOOD = json.dumps({"text": "ok", "label": 0})
BAD_LINES = [
    ('{"text": "a", "label": 0', "invalid JSON"),
    ("[1, 2]", "not a JSON object: got list"),
    ('"just a string"', "not a JSON object: got str"),
    ('{"label": 0}', "missing key 'text'"),
    ('{"text": "a"}', "missing key 'label'"),
    ('{"text": 3, "label": 0}', "'text' must be a string, got int"),
    ('{"text": null, "label": 0}', "'text' must be a string, got NoneType"),
    ('{"text": "a", "label": true}', "must be an int or a list of ints"),
    ('{"text": "a", "label": 1.0}', "must be an int or a list of ints"),
    ('{"text": "a", "label": "1"}', "must be an int or a list of ints"),
    ('{"text": "a", "label": [0, false]}', "must be an int or a list of ints"),
    ('{"text": "a", "label": [[0]]}', "must be an int or a list of ints"),
    ('{"text": "a", "label": null}', "must be an int or a list of ints"),
    ('{"text": "a", "label": -1}', "label id -1 out of range"),
    ('{"text": "a", "label": 3}', "label id 3 out of range: valid ids are 0..2"),
    ('{"text": "a", "label": [0, 7]}', "label id 7 out of range"),
    ('{"text": "a", "label": 99999999999999999999}',
     "label id 99999999999999999999 out of range"),
    ("", "blank line"),
    ("   ", "blank line"),
]


@pytest.mark.parametrize("bad,why", BAD_LINES)
@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.gz"])
def test_bad_line_is_named(tmp_path, name, bad, why):
  path = _write(tmp_path / name, [GOOD, GOOD, bad, GOOD], labels=["a", "b", "c"])
  with pytest.raises(CorpusError) as e:
    read_jsonl(path)
  assert str(e.value).startswith(f"{path}:3: ")
  assert why in str(e.value)


def test_range_check_uses_num_labels_without_labels_json(tmp_path):
  path = _write(tmp_path / "t.jsonl", [GOOD, '{"text": "a", "label": 2}'])
  with pytest.raises(CorpusError, match=r":2: label id 2 out of range.*num_labels"):
    read_jsonl(path, num_labels=2)
  assert read_jsonl(path).num_labels == 3


def test_negative_label_without_any_size(tmp_path):
  path = _write(tmp_path / "t.jsonl", [GOOD, GOOD, GOOD,
                                       '{"text": "a", "label": [-2]}'])
  with pytest.raises(CorpusError, match=r"t.jsonl:4: label id -2 out of range"):
    read_jsonl(path)


@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.gz"])
def test_non_utf8_bytes_name_their_line(tmp_path, name):
  raw = (GOOD + "\n" + GOOD + "\n" + GOOD + "\n").encode() + (
      b'{"text": "caf\xe9", "label": 0}\n') + (GOOD + "\n").encode()
  path = _write(tmp_path / name, None, raw=raw)
  with pytest.raises(CorpusError, match=r"^.*t\.jsonl(\.gz)?:4: not UTF-8"):
    read_jsonl(path)


@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.gz"])
def test_empty_file_is_an_error(tmp_path, name):
  path = _write(tmp_path / name, None, raw=b"")
  with pytest.raises(CorpusError, match="empty file"):
    read_jsonl(path)


def test_bom_only_file_is_empty(tmp_path):
  path = _write(tmp_path / "t.jsonl", None, raw="\ufeff".encode("utf-8"))
  with pytest.raises(CorpusError, match="empty file"):
    read_jsonl(path)


def test_only_a_newline_is_a_blank_line_1(tmp_path):
  path = _write(tmp_path / "t.jsonl", None, raw=b"\n")
  with pytest.raises(CorpusError, match=r"t\.jsonl:1: blank line"):
    read_jsonl(path)


def test_blank_line_at_end_is_named(tmp_path):
  path = _write(tmp_path / "t.jsonl", None, raw=(GOOD + "\n\n").encode())
  with pytest.raises(CorpusError, match=r"t\.jsonl:2: blank line"):
    read_jsonl(path)


def test_bad_labels_json(tmp_path):
  path = _write(tmp_path / "t.jsonl", [GOOD])
  (tmp_path / "labels.json").write_text('{"a": 0}')
  with pytest.raises(CorpusError, match=r"labels\.json: must be a JSON list"):
    read_jsonl(path)
  (tmp_path / "labels.json").write_text('["a", "a"]')
  with pytest.raises(CorpusError, match="duplicate class names"):
    read_jsonl(path)


def test_bad_gzip_is_an_error(tmp_path):
  (tmp_path / "t.jsonl.gz").write_bytes(b"not gzip at all")
  with pytest.raises(CorpusError, match="cannot read"):
    read_jsonl(tmp_path / "t.jsonl.gz")


@pytest.mark.parametrize("multi", [False, True])
def test_write_then_read_round_trips(tmp_path, multi):
  labels = (np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0]], bool) if multi
            else np.array([2, 0, 1]))
  c = Corpus(texts=["α\nβ", "", 'q"uote'], labels=labels,
             label_names=["a", "b", "c"])
  write_jsonl(tmp_path / "d" / "train.jsonl.gz", c)
  back = read_jsonl(tmp_path / "d" / "train.jsonl.gz")
  assert back.texts == c.texts
  assert back.label_names == c.label_names
  np.testing.assert_array_equal(back.labels, labels)
  assert back.labels.dtype == (bool if multi else np.int64)


def test_write_gz_is_reproducible_with_mtime_0(tmp_path):
  c = Corpus(texts=["a"], labels=np.array([0]), label_names=["x"])
  write_jsonl(tmp_path / "a.jsonl.gz", c)
  write_jsonl(tmp_path / "b.jsonl.gz", c)
  a, b = (tmp_path / "a.jsonl.gz").read_bytes(), (tmp_path / "b.jsonl.gz").read_bytes()
  assert a == b and a[4:8] == b"\0\0\0\0"
  assert gzip.decompress(a) == b'{"text": "a", "label": 0}\n'
  write_jsonl(tmp_path / "p.jsonl", c)
  assert (tmp_path / "p.jsonl").read_bytes() == gzip.decompress(a)
