"""``python -m benchmarks``: run every benchmark and write benchmarks/RESULTS.md."""

from __future__ import annotations

import importlib
import sys

# Each module has main(argv) -> int and writes its own section with --write.
MODULES = ["benchmarks.routing"]


def main() -> int:
    rc = 0
    for name in MODULES:
        print(f"== {name}", flush=True)
        rc |= importlib.import_module(name).main(["--write", *sys.argv[1:]])
    return rc


if __name__ == "__main__":
    sys.exit(main())
