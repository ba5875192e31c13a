"""tfds builder of DBpedia-14 (Zhang et al., 2015), as the HF `dbpedia_14`."""

from __future__ import annotations

import tensorflow_datasets as tfds

from kwls_jax.corpora import registry
from kwls_jax.corpora.tfds_builders import zhang_csv

_ARCHIVES = ("dbpedia_csv.tar.gz", "dbpedia_csv.tgz")


class Dbpedia14(tfds.core.GeneratorBasedBuilder):
  """DBpedia 2014 ontology classification: 14 classes, 560k/70k rows."""

  name = "dbpedia_14"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Original CSV archive of Zhang et al. (2015)."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = zhang_csv.manual_instructions(
      _ARCHIVES, registry.DBPEDIA_14_URL)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description=(
            "DBpedia ontology classification: 14 non-overlapping classes of "
            "DBpedia 2014, 40,000 train and 5,000 test articles per class. "
            "Label = class index - 1 (classes.txt order)."),
        features=tfds.features.FeaturesDict({
            "title": tfds.features.Text(),
            "content": tfds.features.Text(),
            "label": tfds.features.ClassLabel(
                names=list(registry.DBPEDIA_14_CLASSES)),
        }),
        supervised_keys=("content", "label"),
        homepage="https://arxiv.org/abs/1509.01626",
        citation=zhang_csv.CITATION,
        disable_shuffling=True,  # Keep the CSV order, as HF does.
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    return zhang_csv.split_generators(
        dl_manager, self._generate_examples, _ARCHIVES,
        registry.DBPEDIA_14_URL, "dbpedia_csv")

  def _generate_examples(self, path):
    for i, (label, title, content) in zhang_csv.read_rows(path, 3):
      yield i, {"title": title, "content": content, "label": int(label) - 1}
