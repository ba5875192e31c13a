"""The vectorised counter reproduces re.findall(r"\\w+", t.lower()) / t.split()."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from kwls_jax.smoothing import tokenize
import _data

# Characters where Python's notions differ from other libraries' (Rust, Arrow,
# Oniguruma): str.split() separators \x1c-\x1f and U+0085; non-breaking and
# ideographic spaces; combining marks (not \w in Python); superscripts,
# fractions and other numerics (\w in Python); a lone surrogate; an emoji.
ADVERSARIAL = [
    "", " ", "\n\n", "a", "  leading and trailing  ",
    "tab\tsep\x0bvt\x0cff\rcr\x1cfs\x1dgs\x1ers\x1fus\x85nel\xa0nbsp",
    "ogham\u1680sp\u2000en\u2028ls\u2029ps\u202fnnbsp\u205fmm\u3000ideo",
    "zero\u200bwidth\u180emongolian\ufeffbom",
    "cafe\u0301 nai\u0308ve Cafe\u0301", "x\u00b2 \u00bd \u2153 \u0663\u0664",
    "snake_case __dunder__ _ a_b", "\ud800lone surrogate \udfff",
    "emoji \U0001F600 face\U0001F600s", "İstanbul ΣΊΣΥΦΟΣ straße ǅ",
    "dots...and---dashes!!! <br />html<br />", "数字一二三 汉字 かな",
    "mixed\nlines\nhere",
]


def _expected(texts, tokenizer):
  return [collections.Counter(tokenize.reference_tokenize(t, tokenizer))
          for t in texts]


def _as_counters(wc: tokenize.WordCounts):
  vocab = wc.vocab()
  out = []
  for i in range(wc.num_docs):
    lo, hi = wc.doc_ptr[i], wc.doc_ptr[i + 1]
    out.append(collections.Counter(
        {vocab[w]: int(c) for w, c in zip(wc.word[lo:hi], wc.count[lo:hi])}))
  return out


def _check(texts, tokenizer, **kwargs):
  wc = tokenize.count_words(texts, tokenizer, **kwargs)
  expected = _expected(texts, tokenizer)
  got = _as_counters(wc)
  bad = [i for i, (e, g) in enumerate(zip(expected, got)) if e != g]
  assert not bad, (f"first mismatch at {bad[0]}: {texts[bad[0]]!r}: "
                   f"{expected[bad[0]]} != {got[bad[0]]}")
  np.testing.assert_array_equal(
      wc.length, [sum(e.values()) for e in expected])
  vocab = wc.vocab()
  assert len(set(vocab)) == len(vocab), "a word got two ids"
  assert set(vocab) == set().union(*expected) if expected else not vocab
  return wc


@pytest.mark.parametrize("tokenizer", tokenize.TOKENIZERS)
def test_adversarial_unicode(tokenizer):
  _check(ADVERSARIAL, tokenizer)


@pytest.mark.parametrize("tokenizer", tokenize.TOKENIZERS)
def test_synthetic_corpus(tokenizer):
  texts, _, _ = _data.synthetic()
  _check(list(texts) + ADVERSARIAL, tokenizer)


@pytest.mark.parametrize("tokenizer", tokenize.TOKENIZERS)
def test_real_corpora(shared_datasets, tokenizer):
  ag, _, _ = _data.load(shared_datasets / "ag_news" / "test.jsonl.gz")
  imdb, _, _ = _data.load(shared_datasets / "imdb" / "train.jsonl.gz",
                          limit=1500, stride=16)
  _check(list(ag) + list(imdb), tokenizer)


@pytest.mark.parametrize("tokenizer", tokenize.TOKENIZERS)
def test_chunks_and_threads_do_not_change_counts(corpus, tokenizer):
  texts, _, _ = corpus(3000)
  whole = tokenize.count_words(texts, tokenizer, chunk_chars=1 << 30,
                               workers=1)
  # ~40 chunks, merged into one vocabulary in parallel.
  chunk_chars = sum(map(len, texts)) // 40
  parts = _check(texts, tokenizer, chunk_chars=chunk_chars, workers=2)
  assert _as_counters(parts) == _as_counters(whole)
  np.testing.assert_array_equal(parts.doc_ptr, whole.doc_ptr)


def test_empty_corpus_and_empty_texts():
  wc = tokenize.count_words([], "word")
  assert wc.num_docs == 0 and wc.vocab_size == 0 and wc.nnz == 0
  wc = _check(["", "a a b", "", ""], "word")
  np.testing.assert_array_equal(wc.doc_ptr, [0, 0, 2, 2, 2])
  np.testing.assert_array_equal(wc.length, [0, 3, 0, 0])


def test_progress_counts_every_instance():
  seen = []
  tokenize.count_words(["a b"] * 1000, "word", chunk_chars=100,
                       progress=seen.append)
  assert sum(seen) == 1000 and len(seen) > 1


def test_unknown_tokenizer():
  with pytest.raises(ValueError, match="unknown tokenizer"):
    tokenize.count_words(["a"], "bpe")


def test_streamed_blocks_equal_one_list(corpus):
  texts, _, _ = corpus(2000)
  blocks = [texts[i:i + 137] for i in range(0, len(texts), 137)]
  streamed = tokenize.count_word_blocks(iter(blocks), "word", workers=2)
  whole = tokenize.count_words(texts, "word")
  assert _as_counters(streamed) == _as_counters(whole)
  assert tokenize.count_word_blocks(iter([]), "word").num_docs == 0
