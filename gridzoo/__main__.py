"""``python -m gridzoo`` runs the command line."""

import sys

from gridzoo.cli import main

sys.exit(main())
