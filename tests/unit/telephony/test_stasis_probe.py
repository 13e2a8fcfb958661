"""The stasis-lag probe (telephony.stasis_probe) and its sign in the LoadWatch: a
fake clock, no Asterisk (the real round trip: tests/integration/test_serve_overload)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from acd.counters import Count
from telephony.ami_client import AmiActionError, AmiTimeoutError
from telephony.ami_frames import AmiMessage
from telephony.overload import LoadWatch, OverloadLimits
from telephony.stasis_probe import PROBE_DEVICE, RESEND_S, StasisProbe, probe_device, probing


def state_change(state: str, device: str = PROBE_DEVICE) -> dict[str, str]:
    return {"Event": "DeviceStateChange", "Device": device, "State": state}


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_first_probe_sets_the_other_state_first_then_toggles() -> None:
    clock = Clock()
    probe = StasisProbe(0.5, now=clock)
    assert probe.due() and probe.lag_s() == 0
    first = probe.send()  # Asterisk's state unknown: the other one first, unmeasured
    assert first == ["NOT_INUSE", "INUSE"] and not probe.due()
    clock.t += 0.2
    assert probe.event(state_change("NOT_INUSE")) is None  # the priming one: not the answer
    assert probe.event(state_change("INUSE", "PJSIP/2001")) is None  # a seat: not ours
    assert probe.event({"Event": "Hangup", "State": "INUSE"}) is None
    clock.t += 0.1
    assert probe.event(state_change("INUSE")) == pytest.approx(0.3)
    assert probe.lag_s() == pytest.approx(0.3)
    clock.t += 0.4
    assert not probe.due()  # every 0.5 s from the answer
    clock.t += 0.1
    assert probe.due() and probe.send() == ["NOT_INUSE"]  # primed: one Setvar, toggled
    assert probe.send() == ["INUSE", "NOT_INUSE"]  # (sent again: the pair, same state)
    clock.t += 0.01
    assert probe.event(state_change("NOT_INUSE")) == pytest.approx(0.01)
    assert probe.lag_s() == pytest.approx(0.01)  # the sign falls as soon as answered


def test_each_serve_probes_its_own_device_and_ignores_the_others() -> None:
    """Two serves on one Asterisk: each toggles the device its state folder names, so
    one's Setvar never answers (or silences) the other's probe."""
    a, b = probe_device("/var/lib/hotline"), probe_device("/var/lib/hotline-standby")
    assert a == probe_device("/var/lib/hotline") and a != b  # stable across restarts
    assert a.startswith(f"{PROBE_DEVICE}-") and len(a) == len(PROBE_DEVICE) + 9
    clock = Clock()
    probe = StasisProbe(0.5, now=clock, device=a)
    probe.send()
    clock.t += 0.2
    assert probe.event(state_change("INUSE", b)) is None  # the other serve's toggle
    assert probe.event(state_change("INUSE", a.upper())) == pytest.approx(0.2)


def test_an_unanswered_probe_ages_so_the_sign_rises_with_the_backlog() -> None:
    clock = Clock()
    probe = StasisProbe(0.5, now=clock)
    probe.send()
    probe.event(state_change("INUSE"))  # answered at once: primed, last round trip 0
    clock.t += 0.5
    assert probe.send() == ["NOT_INUSE"]
    lags = []
    for _ in range(6):  # the backlog grows: the answer does not come
        clock.t += 1.0
        lags.append(probe.lag_s())
    assert lags == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    clock.t += 2.0
    assert probe.event(state_change("NOT_INUSE")) == pytest.approx(8.0)
    clock.t += 0.5  # the next probe is out, answered quickly: the sign falls
    probe.send()
    clock.t += 0.05
    probe.event(state_change("INUSE"))
    assert probe.lag_s() == pytest.approx(0.05)


def test_an_answer_counts_until_asterisk_stamped_it_not_until_serve_read_it() -> None:
    """serve's own stall (or the session's socket) is not Asterisk's backlog: the
    answer's Timestamp (when the manager built the event) ends the round trip."""
    clock = Clock()
    probe = StasisProbe(0.5, now=clock)
    probe.send()
    clock.t += 1.5  # serve's loop stalled: the answer read 1.5 s after the send
    stamped = {**state_change("INUSE"), "Timestamp": f"{100.0 + 0.004:.6f}"}
    assert probe.event(stamped) == pytest.approx(0.004)
    clock.t += 0.5
    probe.send()
    clock.t += 0.2  # a stamp after the read (another machine's clock): capped
    assert probe.event({**state_change("NOT_INUSE"), "Timestamp": "999.0"}) == pytest.approx(0.2)
    clock.t += 0.5
    probe.send()
    clock.t += 0.1  # a stamp before the send (clock skew): 0, never negative
    assert probe.event({**state_change("INUSE"), "Timestamp": "1.0"}) == 0.0


def test_a_lost_answer_is_sent_again_and_a_reset_starts_over() -> None:
    clock = Clock()
    probe = StasisProbe(0.5, now=clock)
    probe.send()
    clock.t += RESEND_S - 0.1
    assert not probe.due()
    clock.t += 0.1
    assert probe.due() and probe.send() == ["NOT_INUSE", "INUSE"]  # again, both states
    clock.t += 1.0
    assert probe.lag_s() == pytest.approx(RESEND_S + 1.0)  # aged from the first send
    probe.reset()  # the events' session dropped
    assert probe.lag_s() == 0 and probe.due()
    assert probe.send() == ["INUSE", "NOT_INUSE"]  # unprimed again: the pair


def test_a_refused_setvar_turns_the_probe_off_never_a_false_overload() -> None:
    clock = Clock()
    probe = StasisProbe(0.5, now=clock)
    probe.send()
    clock.t += 30
    probe.refused("Variable not set")
    assert probe.lag_s() == 0 and not probe.due()
    with pytest.raises(ValueError, match="every_s must be > 0"):
        StasisProbe(0)


def test_the_stasis_sign_sheds_reconciles_and_opens_again() -> None:
    now = [1000.0]
    stats: Counter[str] = Counter()
    checks: list[float] = []
    watch = LoadWatch(
        OverloadLimits(ami_lag_s=0, loop_lag_s=0, stasis_lag_s=1.0, hold_s=5.0),
        stats,
        now=lambda: now[0],
        on_lag=lambda: checks.append(now[0]),
    )
    watch.stasis_lag(0.2)
    assert watch.shed_reason(0) is None and stats[Count.STASIS_LAG_MS] == 200
    for lag in (1.0, 1.5, 2.5):  # the probe's age climbs past the threshold
        now[0] += 0.5
        watch.stasis_lag(lag)
    assert checks == [1000.5]  # one reconcile at once, then rate-limited
    assert watch.shed_reason(0) == "Asterisk's events 2.5 s behind (stasis probe)"
    assert stats[Count.OVERLOADED] == 1 and stats[Count.STASIS_LAG_MAX_MS] == 2500
    now[0] += 5.0
    watch.stasis_lag(7.5)  # still growing: another reconcile (every 5 s)
    assert checks == [1000.5, 1006.5]
    now[0] += 0.5
    watch.stasis_lag(0.01)  # answered quickly again: caught up, one more check
    assert checks == [1000.5, 1006.5, 1007.0]
    assert watch.shed_reason(0) is not None  # still held for hold_s
    now[0] += 5.0
    watch.stasis_lag(0.01)
    assert watch.shed_reason(0) is None and len(checks) == 3
    assert stats[Count.LAG_RECONCILES] == 3


def test_a_threshold_of_zero_keeps_the_gauge_and_never_sheds() -> None:
    stats: Counter[str] = Counter()
    watch = LoadWatch(OverloadLimits(stasis_lag_s=0), stats, now=lambda: 0.0)
    watch.stasis_lag(30.0)
    assert stats[Count.STASIS_LAG_MS] == 30_000 and watch.shed_reason(0) is None


def test_limits_reject_a_negative_probe_period() -> None:
    with pytest.raises(ValueError, match='"stasis_probe_s" must be >= 0'):
        OverloadLimits(stasis_probe_s=-1)
    with pytest.raises(ValueError, match='"stasis_lag_s" must be >= 0'):
        OverloadLimits(stasis_lag_s=-1)


class Port:
    """An AMI port: records the Setvars, answers them as told."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.answer: str = "ok"

    async def action(self, action: str, fields: Any = None, **_kw: Any) -> list[AmiMessage]:
        assert action == "Setvar"
        f = dict(fields)
        assert f["Variable"] == f"DEVICE_STATE({PROBE_DEVICE})"
        self.sent.append(f["Value"])
        if self.answer == "error":
            raise AmiActionError("Setvar", AmiMessage({"Response": "Error", "Message": "no"}))
        if self.answer == "timeout":
            raise AmiTimeoutError("Setvar", 5)
        return [AmiMessage({"Response": "Success"})]


async def test_the_runner_sends_reports_and_takes_the_answers() -> None:
    stats: Counter[str] = Counter()
    reports: list[float] = []
    port = Port()
    connected = asyncio.Event()
    probe = StasisProbe(0.05)
    watch = LoadWatch(OverloadLimits(), stats)
    watch.probe = probe
    async with probing(probe, lambda: port, connected, reports.append, stats, tick_s=0.01):
        await asyncio.sleep(0.05)
        assert port.sent == [] and reports == [0.0]  # waits for the events' session
        connected.set()
        await asyncio.sleep(0.03)
        assert port.sent == ["NOT_INUSE", "INUSE"]
        watch.ami_event(AmiMessage(state_change("INUSE")))  # the answer, via the events
        assert probe.sent_at is None and probe.primed
        await asyncio.sleep(0.1)
        assert port.sent[2] == "NOT_INUSE" and stats[Count.STASIS_PROBES] >= 2
        port.answer = "timeout"  # Asterisk slow to answer actions: the probe still ages
        watch.ami_event(AmiMessage(state_change("NOT_INUSE")))
        await asyncio.sleep(0.1)
        assert not probe.off and reports[-1] > 0
        port.answer = "error"  # no func_devstate: off, counted, the sign 0
        probe.reset()
        await asyncio.sleep(0.05)
        assert probe.off and stats[Count.STASIS_PROBE_ERRORS] >= 1
        assert reports[-1] == 0.0
