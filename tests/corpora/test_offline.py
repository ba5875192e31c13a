"""A tfds download that cannot work fails in seconds, saying what to do."""

import socket
import threading

import pytest

from kwls_jax.corpora import CorpusError
from kwls_jax.corpora import CorpusUnavailableError
from kwls_jax.corpora import load_corpus
from kwls_jax.corpora import offline


@pytest.fixture
def closed_port():
  """A localhost port with nothing listening on it."""
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.fixture
def open_port():
  """A localhost port that accepts connections."""
  s = socket.socket()
  s.bind(("127.0.0.1", 0))
  s.listen(4)
  yield s.getsockname()[1]
  s.close()


def test_closed_port_is_unavailable_fast(closed_port):
  url = f"http://127.0.0.1:{closed_port}/data.tgz"
  with pytest.raises(CorpusUnavailableError) as e:
    offline.check_downloadable("imdb", "imdb_reviews", [url], timeout=3)
  msg = str(e.value)
  assert f"127.0.0.1:{closed_port}" in msg
  assert "KWLS_DATA_DIR" in msg and "tfds build imdb_reviews" in msg
  assert "labels.json" in msg and "--config data_dir=" in msg
  assert isinstance(e.value, CorpusError)


def test_open_port_passes(open_port):
  url = f"http://127.0.0.1:{open_port}/x"
  offline.check_downloadable("imdb", "imdb_reviews", [url], timeout=3)


def test_hosts_are_tried_in_parallel(monkeypatch):
  both_connecting = threading.Barrier(2, timeout=10)

  def hanging_connect(address, timeout):
    both_connecting.wait()  # breaks unless the two hosts are tried at once
    raise TimeoutError("timed out")  # what an unrouted address does
  monkeypatch.setattr(offline.socket, "create_connection", hanging_connect)
  failed = offline.unreachable(
      ["http://a.example/x", "https://b.example/y", "http://a.example/z"],
      timeout=20)
  assert failed == ["a.example:80 (TimeoutError: timed out)",
                    "b.example:443 (TimeoutError: timed out)"]


def test_slow_dns_is_bounded(monkeypatch):
  answer = threading.Event()

  def slow_connect(address, timeout):
    answer.wait(30)  # a resolver that hangs; socket ignores the timeout
    raise OSError("late")
  monkeypatch.setattr(offline.socket, "create_connection", slow_connect)
  try:
    failed = offline.unreachable(["https://example.invalid/x"], timeout=0.3)
  finally:
    answer.set()
  assert failed == ["example.invalid:443 (no answer within 0.3 s)"]


def test_timeout_from_env_and_zero_disables(monkeypatch):
  monkeypatch.setenv("KWLS_PROBE_TIMEOUT", "1.5")
  assert offline.probe_timeout() == 1.5
  assert offline.probe_timeout(0.2) == 0.2
  monkeypatch.delenv("KWLS_PROBE_TIMEOUT")
  assert offline.probe_timeout() == offline.DEFAULT_TIMEOUT_S == 3.0
  monkeypatch.setattr(offline, "unreachable", lambda *a: pytest.fail("probed"))
  offline.check_downloadable("x", "x", ["http://h/"], timeout=0)


def test_endpoint_ports_and_proxy(monkeypatch):
  for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
    monkeypatch.delenv(var, raising=False)
  assert offline.endpoint("https://a.b/c") == ("a.b", 443)
  assert offline.endpoint("http://a.b/c") == ("a.b", 80)
  assert offline.endpoint("http://a.b:81/c") == ("a.b", 81)
  monkeypatch.setenv("https_proxy", "http://proxy.local:3128")
  assert offline.endpoint("https://a.b/c") == ("proxy.local", 3128)
  assert offline.endpoint("http://a.b/c") == ("a.b", 80)


@pytest.mark.parametrize("name,tfds_name,host,tfds_way", [
    ("imdb", "imdb_reviews", "ai.stanford.edu", "tfds build imdb_reviews"),
    ("dbpedia_14", "dbpedia_14", "s3.amazonaws.com",
     "(dbpedia_csv.tar.gz or dbpedia_csv.tgz) in tfds' manual_dir"),
])
def test_load_corpus_offline_fails_fast_with_advice(
    tmp_path, closed_port, monkeypatch, name, tfds_name, host, tfds_way):
  """The real tfds builder, its download host swapped for a dead port."""
  pytest.importorskip("tensorflow_datasets")
  real_endpoint = offline.endpoint
  probed = []

  def endpoint(url):
    probed.append(url)
    return ("127.0.0.1", closed_port) if host in url else real_endpoint(url)

  monkeypatch.setattr(offline, "endpoint", endpoint)
  (tmp_path / "empty").mkdir()  # a data dir without this corpus
  with pytest.raises(CorpusUnavailableError) as e:
    load_corpus(name, "train", data_dir=tmp_path / "empty",
                tfds_data_dir=str(tmp_path / "tfds"))
  assert probed and all(host in url for url in probed)
  msg = str(e.value)
  assert f"'{name}'" in msg and tfds_name in msg
  assert "KWLS_DATA_DIR" in msg and tfds_way in msg
  assert not list((tmp_path / "tfds").rglob("dataset_info.json"))
