"""`python -m flows.cli`: the `callqa` command."""

import sys

from flows.cli.main import entry

sys.exit(entry())
