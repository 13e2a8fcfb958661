"""``python -m benchmarks`` (``make bench``): run the benchmarks and write benchmarks/RESULTS.md.

The CRM screen-pop benchmark is separate (``python -m benchmarks.crm_screenpop --write``):
its first run generates a 1,000,000-resident data set, about half an hour.
"""

from __future__ import annotations

import importlib
import sys

# Each module has main(argv) -> int and writes its own section with --write.
MODULES = [
    "benchmarks.routing",
    "benchmarks.simulate_day",
    "benchmarks.ami_shell",
    "benchmarks.wait_honesty",
]


def main() -> int:
    rc = 0
    for name in MODULES:
        print(f"== {name}", flush=True)
        rc |= importlib.import_module(name).main(["--write", *sys.argv[1:]])
    return rc


if __name__ == "__main__":
    sys.exit(main())
