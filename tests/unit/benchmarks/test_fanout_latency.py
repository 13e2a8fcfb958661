"""The fan-out benchmark's matching: an event meets the first observation after it that
shows its outcome; none is a miss; a frame built before the event never counts."""

from __future__ import annotations

import math

from benchmarks.fanout_latency import Latencies, match_desks, match_mqtt, match_walls

ANSWERED = ("on-call", "c1", "2001", 10.0)


def test_a_desk_event_meets_the_first_later_frame_showing_the_state_and_call() -> None:
    desks = {
        "2001": [
            (9.0, "offered", "c1"),
            (10.05, "offered", "c1"),  # built before the answer reached serve
            (10.12, "on-call", "c1"),
            (10.5, "on-call", "c1"),
        ]
    }
    got = match_desks([ANSWERED, ("wrap-up", "c1", "2001", 11.0)], desks)
    assert [round(s, 3) for s in got.seconds] == [0.12]
    assert got.missed == 1  # no wrap-up frame came


def test_an_earlier_call_in_the_same_state_does_not_count() -> None:
    desks = {"2001": [(9.5, "on-call", "c0"), (10.2, "on-call", "c0"), (10.3, "on-call", "c1")]}
    assert [round(s, 3) for s in match_desks([ANSWERED], desks).seconds] == [0.3]


def test_every_wallboard_socket_gives_its_own_latency() -> None:
    frames = {0: {"2001": ["offered", "c1"]}, 1: {"2001": ["on-call", "c1"]}}
    walls = [[(9.9, 0), (10.2, 1)], [(10.1, 0), (10.4, 1)], [(10.1, 0)]]
    got = match_walls([ANSWERED], walls, frames)
    assert [round(s, 3) for s in got.seconds] == [0.2, 0.4]
    assert got.missed == 1


def test_mqtt_arrivals_meet_the_call_event_and_states_the_agent_topic() -> None:
    states = {"2001": [(10.01, "offered"), (10.03, "on-call")]}
    calls = {"c1": [(9.52, "offered"), (12.0, "finished")]}
    got = match_mqtt([("offered", "c1", "2001", 9.5), ANSWERED], states, calls)
    assert [round(s, 3) for s in got.seconds] == [0.02, 0.03]


def test_quantiles_are_nearest_rank_and_nan_when_empty() -> None:
    x = Latencies([i / 100 for i in range(1, 101)], 0)
    assert (x.quantile(0.5), x.quantile(0.99), x.quantile(1.0)) == (0.5, 0.99, 1.0)
    assert math.isnan(Latencies([], 3).quantile(0.5))
    assert Latencies([], 3).row()["missed"] == 3
