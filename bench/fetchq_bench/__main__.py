"""`python -m fetchq_bench` (from bench/): the whole bench, as bench/bench.py."""

import sys

from .cli import main

sys.exit(main())
