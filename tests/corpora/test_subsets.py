"""Splits and unbalanced subsets: exact counts, determinism, disjointness."""

import numpy as np
import pytest

from kwls_jax.corpora import subsets

# AG News test as the corpus: 1,900 rows per class.
AG = np.repeat(np.arange(4), 1900)
IMDB = np.repeat(np.arange(2), 12500)


def test_folds_partition_and_stratify():
  parts = subsets.folds(AG, k=4, seed=3)
  assert sorted(np.concatenate(parts).tolist()) == list(range(len(AG)))
  for p in parts:
    assert np.bincount(AG[p], minlength=4).tolist() == [475] * 4
  uneven = np.array([0] * 7 + [1] * 5)
  sizes = [np.bincount(uneven[p], minlength=2) for p in subsets.folds(uneven)]
  assert all(max(s[c] for s in sizes) - min(s[c] for s in sizes) <= 1
             for c in range(2))


def test_train_dev_is_three_to_one():
  train, dev = subsets.train_dev(AG, fold=1, seed=0)
  assert len(train) == 3 * len(dev) == 5700
  assert not set(train) & set(dev)
  devs = [subsets.train_dev(AG, f)[1] for f in range(4)]
  assert sorted(np.concatenate(devs).tolist()) == list(range(len(AG)))


def test_deterministic_in_seed():
  a = subsets.undersample(IMDB, [1], seed=7)
  assert np.array_equal(a, subsets.undersample(IMDB, [1], seed=7))
  assert not np.array_equal(a, subsets.undersample(IMDB, [1], seed=8))


def test_imdb_star_keeps_one_in_a_hundred_positives():
  rows = subsets.undersample(IMDB, [1], ratio=100)
  assert np.bincount(IMDB[rows]).tolist() == [12500, 125]
  assert np.all(np.diff(rows) > 0)


def test_table4_sets():
  train, _ = subsets.train_dev(AG)  # 1,425 a class
  sets = subsets.table4_sets(AG[train])
  assert sorted(sets) == [0, 1, 2, 3]
  for c, rows in sets.items():
    counts = np.bincount(AG[train][rows], minlength=4)
    assert counts[c] == 14 and all(counts[o] == 1425 for o in range(4) if o != c)


@pytest.mark.parametrize("c,expected", [
    (0, [1425, 1425, 1425, 1425]), (1, [14, 1425, 1425, 1425]),
    (2, [14, 14, 1425, 1425]), (3, [14, 14, 1425, 14])])
def test_ag_news_c(c, expected):
  train, _ = subsets.train_dev(AG)
  rows = subsets.ag_news_c(AG[train], c)
  assert np.bincount(AG[train][rows], minlength=4).tolist() == expected


@pytest.mark.parametrize("m", [300, 200, 100, 50, 10, 1])
def test_ag_news_m(m):
  train, _ = subsets.train_dev(AG)
  rows = subsets.ag_news_m(AG[train], m)
  assert np.bincount(AG[train][rows], minlength=4).tolist() == [m, m, 1425, m]


def test_keep_count_never_empties_a_class():
  assert subsets.keep_count(50, 100) == 1
  assert subsets.keep_count(0, 100) == 0
  assert subsets.keep_count(12500, 100) == 125


def test_bad_arguments():
  with pytest.raises(ValueError):
    subsets.ag_news_c(AG, 4)
  with pytest.raises(ValueError):
    subsets.ag_news_m(AG, 0)
  with pytest.raises(ValueError):
    subsets.train_dev(AG, fold=4)


@pytest.mark.parametrize("setting,expected", [
    ("balanced", [1425] * 4), ("under:2", [1425, 1425, 14, 1425]),
    ("under2", [1425, 1425, 14, 1425]), ("agc1", [14, 1425, 1425, 1425]),
    ("agm:10", [10, 10, 1425, 10])])
def test_named_settings(setting, expected):
  train, dev = subsets.fold_and_setting(AG, setting, fold=2,
                                        label_names=subsets.AG_NEWS_LABELS)
  assert np.bincount(AG[train], minlength=4).tolist() == expected
  assert np.bincount(AG[dev], minlength=4).tolist() == [475] * 4  # untouched
  assert not set(train) & set(dev)


@pytest.mark.parametrize("setting", ["under", "bogus", "agc:9", "balanced:1"])
def test_bad_settings(setting):
  with pytest.raises(ValueError, match="setting"):
    subsets.apply_setting(AG, setting, label_names=subsets.AG_NEWS_LABELS)


@pytest.mark.parametrize("setting", ["under2", "under:7"])
def test_undersampling_a_class_the_corpus_lacks_is_refused(setting):
  """IMDb has classes 0 and 1: under2 would keep every row, balanced data
  under an unbalanced setting's name."""
  with pytest.raises(ValueError, match=rf"{setting}.*does not exist.*2 classes"):
    subsets.apply_setting(IMDB, setting)
  with pytest.raises(ValueError, match="does not exist"):
    subsets.apply_setting(IMDB, setting, num_labels=2,
                          label_names=["neg", "pos"])


@pytest.mark.parametrize("setting", ["agc1", "agm:10"])
@pytest.mark.parametrize("labels, names", [
    (IMDB, ["neg", "pos"]), (np.repeat(np.arange(4), 50), ["a", "b", "c", "d"]),
    (AG, None)])
def test_ag_news_settings_need_ag_news(setting, labels, names):
  """Table 5 keeps Business (label 2 of AG News) whole; on another corpus
  agc/agm would cut whatever class has its id, or none."""
  with pytest.raises(ValueError, match=rf"{setting}.*AG News"):
    subsets.apply_setting(labels, setting, label_names=names)


def test_subset_command_writes_the_rows_it_selected(tmp_path, monkeypatch):
  import json
  from kwls_jax import cli
  from kwls_jax.corpora import Corpus, read_jsonl, write_jsonl
  labels = np.repeat(np.arange(2), 40)
  pool = tmp_path / "pool.jsonl.gz"
  write_jsonl(pool, Corpus([f"text {i}" for i in range(80)], labels,
                           ["neg", "pos"]))
  outs = [tmp_path / "train.jsonl.gz", tmp_path / "dev.jsonl.gz"]
  argv = ["subset", str(pool), "--setting", "under:1", "--fold", "1",
          "--train-out", str(outs[0]), "--dev-out", str(outs[1])]
  assert cli.main(argv) == 0
  expected = subsets.fold_and_setting(labels, "under:1", 1, 4, 0, 2)
  for out, rows in zip(outs, expected):
    record = json.loads((tmp_path / (out.name + ".rows.json")).read_text())
    assert record["rows"] == rows.tolist() and record["setting"] == "under:1"
    assert read_jsonl(out).texts == [f"text {i}" for i in rows]
  # A failure while writing leaves no partial .rows.json behind.
  for out in outs:
    (tmp_path / (out.name + ".rows.json")).unlink()

  dump = json.dump

  def broken_dump(obj, f, **kwargs):  # fails on the rows record only
    if "rows" not in obj:
      return dump(obj, f, **kwargs)
    f.write('{"source": ')
    raise OSError("disk full")

  monkeypatch.setattr(json, "dump", broken_dump)
  assert cli.main(argv) == 2
  assert not list(tmp_path.glob("*.rows.json"))


@pytest.mark.parametrize("setting", ["under:2", "agc1"])
def test_subset_command_refuses_a_setting_of_another_corpus(tmp_path, capsys,
                                                            setting):
  from kwls_jax import cli
  from kwls_jax.corpora import Corpus, write_jsonl
  pool = tmp_path / "pool.jsonl.gz"
  write_jsonl(pool, Corpus([f"text {i}" for i in range(80)],
                           np.repeat(np.arange(2), 40), ["neg", "pos"]))
  out = tmp_path / "train.jsonl.gz"
  assert cli.main(["subset", str(pool), "--setting", setting, "--train-out",
                   str(out), "--dev-out", str(tmp_path / "dev.jsonl.gz")]) == 2
  assert f"setting {setting!r}" in capsys.readouterr().err
  assert not out.exists()
