"""``python -m benchmarks``: run every benchmark (today: the simulated day)."""

import sys

from benchmarks.simulate_day import main

sys.exit(main(sys.argv[1:]))
