"""`python -m labblocks ...`: the `labblocks` command."""

import sys

from labblocks.tools.cli import main

sys.exit(main())
