"""The live-load benchmark's smoke run, so it cannot rot: both systems (Hotline with
``hotline serve``, and Asterisk's app_queue) on the real 200-seat SIPp rig, one tiny
step at a low rate each. Checked: every call is answered and matched to its agent
INVITE and its queue-entry stamp, serve wrote exactly one record per call, and every
AMI event that reached serve was one it reads (the session filter and
``disabledevents`` on the real Asterisk). With ``--breakdown`` on, every call's
hand-off is also found stage by stage (serve's stamps, Asterisk's logged INVITE, the
seat's). Its timing figures are for
benchmarks/RESULTS.md, never asserted."""

from __future__ import annotations

import math
import shutil

import pytest

from benchmarks import live_breakdown
from benchmarks.live_load import entries, figures
from benchmarks.live_outcomes import read_records
from benchmarks.live_rig import open_rig

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_one_small_step_on_each_system_answers_every_call() -> None:
    if shutil.which("sipp") is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    with open_rig(breakdown=True) as rig:
        for number, system in enumerate(rig.systems):
            raw = rig.step(system, rate=4.0, seconds=1.5, first_number=number * 100, patience_s=8)
            logs = system.instance.dir / "log"
            entry = entries(logs / "messages.log")
            records = read_records(system.records, raw.numbers)
            f = figures(raw, entry, records)
            assert (f.attempted, f.answered, f.lost, f.refused) == (6, 6, 0, 0), (system.name, f)
            # serve wrote exactly one record per call; app_queue has none to check
            assert f.records == ("0 / 0" if system.name == "hotline" else "-"), f
            seat = {e.fields["caller"]: e.at for e in raw.agents if e.event == "offered"}
            sent = live_breakdown.invites_sent(logs / "breakdown.log", logs / "messages.log")
            trace = live_breakdown.trace_lines(system.trace) if system.trace else {}
            stages = live_breakdown.stages(entry, seat, sent, trace)
            expected = ["asterisk", "to seat", "total"]
            if system.name == "hotline":
                expected += ["agi connect", "agi env", "serve", "ami answer"]
            assert sorted(stages) == sorted(expected), stages
            assert all(len(v) == 6 for v in stages.values()), stages
            assert not math.isnan(f.p99_ms), f  # every INVITE matched to a stamped entry
            if system.name == "hotline":
                assert raw.ami_events and raw.ami_ignored == 0, raw
            else:
                assert raw.ami_events is None  # app_queue: no AMI client at all


def test_a_restarted_system_answers_again() -> None:
    """After a collapse the rig restarts a system's serve and Asterisk (its calls would
    not drain): the restarted system takes calls as before."""
    if shutil.which("sipp") is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    with open_rig(systems=("hotline",)) as rig:
        (system,) = rig.systems
        old = system.instance.pid()
        rig.restart(system)
        assert system.instance.pid() not in (None, old)
        raw = rig.step(system, rate=4.0, seconds=1.0, first_number=500, patience_s=8)
        f = figures(raw, entries(system.instance.dir / "log" / "messages.log"),
                    read_records(system.records, raw.numbers))  # fmt: skip
        assert (f.attempted, f.answered, f.lost) == (4, 4, 0), f
        assert not raw.undrained  # its calls drained
