"""`python -m kwls_jax ...` is the `kwls` command."""

import sys

from kwls_jax.cli import main

if __name__ == "__main__":
  sys.exit(main())
