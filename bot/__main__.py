"""`python -m bot …`: the command line (README.md, *Operating it*)."""

import sys

from bot.cli import main

sys.exit(main())
