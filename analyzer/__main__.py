"""`python -m analyzer ...`: the same as the `layerscope` command."""

from __future__ import annotations

import sys

from analyzer.cli import main

sys.exit(main())
