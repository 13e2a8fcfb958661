"""schemathesis over every HTTP API, the long run (``python -m benchmarks.fuzz_api``).

The same harness as ``tests/unit/serve/test_fuzz_api.py`` (:mod:`tests.fakes.api_fuzz`:
in-process ASGI, every operation as admin, supervisor, agent, dispatcher,
department and no one, positive and negative examples, then the spec's links as a
state machine per role) with a larger budget. Prints requests tried, answers by
status, 5xx found (each with its request) and answers the spec does not describe;
exits 1 if any 5xx or undescribed answer was found.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.fakes.api_fuzz import fuzz
from tests.fakes.api_world import APPS


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fuzz_api", description=__doc__)
    p.add_argument("--examples", type=int, default=25, help="per operation, role and mode")
    p.add_argument("--stateful", type=int, default=50, help="state-machine runs per role")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--apps", default=",".join(APPS), help="comma-separated: " + ", ".join(APPS))
    args = p.parse_args(argv)
    bad = 0
    total_tried = total_5xx = 0
    with tempfile.TemporaryDirectory(prefix="hotline-fuzz-api-") as tmp:
        for name in args.apps.split(","):
            t0 = time.monotonic()
            tally = fuzz(name, args.examples, Path(tmp), seed=args.seed, stateful=args.stateful)
            took = time.monotonic() - t0
            fives = sum(n for s, n in tally.statuses.items() if s >= 500)
            total_tried += tally.tried
            total_5xx += fives
            statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
            print(
                f"{name}: {tally.tried} requests ({tally.stateful} stateful) in {took:.0f} s;"
                f" 5xx: {fives}; undescribed: {sum(tally.undocumented.values())}; {statuses}",
                flush=True,
            )
            for line in tally.errors:
                print("  " + line)
            for (status, op), n in sorted(tally.undocumented.items()):
                print(f"  undescribed {status} {op} ×{n}: {tally.samples[(status, op)]}")
            bad += fives + sum(tally.undocumented.values())
    print(f"total: {total_tried} requests, {total_5xx} × 5xx")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
