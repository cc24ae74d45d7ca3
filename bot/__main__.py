"""`python -m bot …`: the command line of CONTRACT.md."""

import sys

from bot.cli import main

sys.exit(main())
