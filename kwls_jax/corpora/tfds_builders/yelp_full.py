"""tfds builder of Yelp review full (5 classes, Zhang et al., 2015)."""

from __future__ import annotations

import tensorflow_datasets as tfds

from kwls_jax.corpora import registry
from kwls_jax.corpora.tfds_builders import zhang_csv

_ARCHIVES = ("yelp_review_full_csv.tar.gz", "yelp_review_full_csv.tgz")


class YelpFull(tfds.core.GeneratorBasedBuilder):
  """Yelp reviews by star rating: 5 classes, 650k/50k rows."""

  name = "yelp_full"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Original CSV archive of Zhang et al. (2015)."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = zhang_csv.manual_instructions(
      _ARCHIVES, registry.YELP_FULL_URL)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description=(
            "Yelp reviews full star: 130,000 train and 10,000 test reviews "
            "per star rating 1-5 (Yelp Dataset Challenge 2015). Label = "
            "stars - 1; the CSV's `\\n` escapes are turned into newlines."),
        features=tfds.features.FeaturesDict({
            "text": tfds.features.Text(),
            "label": tfds.features.ClassLabel(
                names=list(registry.YELP_FULL_CLASSES)),
        }),
        supervised_keys=("text", "label"),
        homepage="https://arxiv.org/abs/1509.01626",
        citation=zhang_csv.CITATION,
        disable_shuffling=True,  # Keep the CSV order, as HF does.
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    return zhang_csv.split_generators(
        dl_manager, self._generate_examples, _ARCHIVES,
        registry.YELP_FULL_URL, "yelp_review_full_csv")

  def _generate_examples(self, path):
    for i, (label, text) in zhang_csv.read_rows(path, 2):
      yield i, {"text": registry.unescape_zhang_csv(text),
                "label": int(label) - 1}
