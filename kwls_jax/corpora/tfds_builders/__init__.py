"""Our own tfds builders; importing this package registers them with tfds."""

from kwls_jax.corpora.tfds_builders.dbpedia_14 import Dbpedia14
from kwls_jax.corpora.tfds_builders.yelp_full import YelpFull

__all__ = ["Dbpedia14", "YelpFull"]
