"""Our NNX BERT on MiniLM-L6 weights against PyTorch transformers.BertModel.

The reference file is made by tools/make_bert_reference.py (see its
docstring to regenerate it).
"""

import importlib.util
import pathlib

from flax import nnx
import numpy as np
import pytest

from kwls_jax.models import bert_checkpoint
from kwls_jax.models import wordpiece

REFERENCE = pathlib.Path(__file__).parent / "data" / "minilm_reference.npz"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def reference():
  with np.load(REFERENCE) as data:
    return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def minilm(minilm_path):
  model, config = bert_checkpoint.load_bert(minilm_path, rngs=nnx.Rngs(0))
  assert config.num_hidden_layers == 6 and config.hidden_size == 384
  forward = nnx.jit(lambda m, i, a, t: m(i, a, t, deterministic=True))
  return lambda i, a, t: forward(model, i, a, t)


def test_matches_reference_file(minilm, reference):
  out = minilm(reference["input_ids"], reference["attention_mask"],
               reference["token_type_ids"])
  diff = np.abs(np.asarray(out.last_hidden_state)
                - reference["last_hidden_state"]).max()
  print(f"MiniLM-L6 last_hidden_state max abs diff vs reference: {diff:.3g}")
  assert diff <= TOLERANCE
  assert "pooler_output" in reference
  pooled = np.abs(np.asarray(out.pooler_output)
                  - reference["pooler_output"]).max()
  print(f"MiniLM-L6 pooler_output max abs diff vs reference: {pooled:.3g}")
  assert pooled <= TOLERANCE


def test_our_tokenizer_matches_reference_ids(minilm_path, reference):
  tok = wordpiece.WordPieceTokenizer.from_dir(
      minilm_path, max_length=reference["input_ids"].shape[1])
  enc = tok.encode([str(s) for s in reference["sentences"]])
  for key in ("input_ids", "attention_mask", "token_type_ids"):
    np.testing.assert_array_equal(enc[key], reference[key])


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None
    or importlib.util.find_spec("transformers") is None,
    reason="torch and transformers not installed (reference file still checked)")
def test_matches_torch_live(minilm, minilm_path):
  import torch  # pylint: disable=g-import-not-at-top
  import transformers  # pylint: disable=g-import-not-at-top

  tok = wordpiece.WordPieceTokenizer.from_dir(minilm_path, max_length=24)
  enc = tok.encode(["Keyword-based label smoothing helps unbalanced data.",
                    "Short one.", "The third, rather different, sentence!"])
  model = transformers.BertModel.from_pretrained(
      str(minilm_path), attn_implementation="eager").eval()
  with torch.no_grad():
    want = model(**{k: torch.from_numpy(v).long() for k, v in enc.items()})
  got = minilm(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
  diff = np.abs(np.asarray(got.last_hidden_state)
                - want.last_hidden_state.numpy()).max()
  print(f"MiniLM-L6 live max abs diff vs torch: {diff:.3g}")
  assert diff <= TOLERANCE
  np.testing.assert_allclose(got.pooler_output, want.pooler_output.numpy(),
                             atol=TOLERANCE)
