"""Instructions per routing cycle, for A/B comparisons on a noisy machine.

Wall-clock figures on these shared 2-core machines swing by up to 40 % between runs
of the same code; callgrind counts instructions, which do not depend on the load.
This runs the routing benchmark's steady-state workload (:func:`benchmarks.routing.run`
with the :class:`~benchmarks.routing.EngineDriver`): fill the centre, then ``CYCLES``
cycles of end a call → offer → answer → an arrival. Run it twice under callgrind,
with ``CYCLES`` and with 0, and divide the difference by ``CYCLES``::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python -m benchmarks.routing_instructions 10000 5000 5000
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python -m benchmarks.routing_instructions 10000 5000 0

For a baseline, run the same in a worktree of the older commit
(``git worktree add /tmp/base <commit>``, ``cd /tmp/base``, ``PYTHONPATH=.``).
"""

from __future__ import annotations

import argparse

from benchmarks.routing import EngineDriver, build_config, run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.routing_instructions")
    p.add_argument("agents", type=int, help="agents (the benchmark uses 200 and 10000)")
    p.add_argument("waiting", type=int, help="standing waiting calls (500 and 5000)")
    p.add_argument("cycles", type=int, help="measured cycles (0: the fill alone)")
    a = p.parse_args(argv)
    run(EngineDriver, build_config(a.agents, 30, seed=1), a.waiting, a.cycles, seed=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
