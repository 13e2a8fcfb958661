"""The two one-hop benchmarks' smoke runs, so they cannot rot
(:mod:`benchmarks.notify_paths`, :mod:`benchmarks.originate_paths`): a few calls on
a scratch real Asterisk, every call timed on every path, nothing left behind. Their
timing figures are for benchmarks/RESULTS.md, never asserted."""

from __future__ import annotations

import pytest

from benchmarks import notify_paths, originate_paths
from telephony.asterisk.root import AsteriskRoot

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _instances(root: AsteriskRoot) -> set[str]:
    folder = root.host_path(root.instances_inside)
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_a_user_event_and_a_fastagi_connection_are_timed_for_every_call(
    asterisk_root: AsteriskRoot,  # provisioned (the benchmark only finds it)
) -> None:
    before = _instances(asterisk_root)
    paths = notify_paths.measure(calls=10, rate=20)
    assert (len(paths.event), len(paths.accept), len(paths.env)) == (10, 10, 10), vars(paths)
    assert all(x > 0 for x in paths.event + paths.env)
    assert _instances(asterisk_root) == before  # the scratch instance is gone


def test_both_originates_reach_the_leg_for_every_call(asterisk_root: AsteriskRoot) -> None:
    paths = originate_paths.measure(calls=10, rate=20)
    assert paths.errors == []  # app_originate loaded, EXEC answered result=0
    assert (len(paths.delays["ami"]), len(paths.delays["agi"])) == (5, 5), paths.delays
