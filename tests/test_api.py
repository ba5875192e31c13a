"""The package's public names: the real functions, imported on first use."""

import inspect
import subprocess
import sys

import pytest

import kwls_jax
from kwls_jax.smoothing import api
from kwls_jax.training import loss


@pytest.mark.parametrize("name, real", [
    ("soft_labels", api.soft_labels),
    ("eq9_loss", loss.eq9_loss),
    ("eq9_two_head_loss", loss.eq9_two_head_loss),
])
def test_public_names_are_the_real_functions(name, real):
  got = getattr(kwls_jax, name)
  assert got is real
  assert inspect.signature(got) == inspect.signature(real)
  assert got.__doc__ == real.__doc__
  assert name in kwls_jax.__all__ and name in dir(kwls_jax)


def test_import_loads_neither_jax_nor_flax():
  script = ("import sys, kwls_jax; "
            "print(sorted(m for m in ('jax', 'flax') if m in sys.modules)); "
            "kwls_jax.eq9_loss; print('jax' in sys.modules)")
  out = subprocess.run([sys.executable, "-c", script], capture_output=True,
                       text=True, check=True).stdout.split("\n")
  assert out[:2] == ["[]", "True"]


def test_unknown_name_is_an_attribute_error():
  with pytest.raises(AttributeError, match="no attribute 'soft_label'"):
    kwls_jax.soft_label  # pylint: disable=pointless-statement
  assert not hasattr(kwls_jax, "engine")
