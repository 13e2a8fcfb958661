"""Erlang B, C and A against known values, limits and 1,000 agents."""

from __future__ import annotations

import math

import pytest

from simulator.erlang import ErlangError, erlang, erlang_b, erlang_c, staff


def test_erlang_b_known_values() -> None:
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(0, 3.0) == 1.0


def test_erlang_c_known_value_and_unstable_queue() -> None:
    # 10 agents, 8 erlangs: P(wait) = 0.409 (textbook table)
    assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=1e-4)
    assert erlang_c(5, 5.0) == 1.0


def test_mm1_closed_form() -> None:
    # M/M/1: P(wait) = rho, ASA = rho / (mu - lambda), SL = 1 - rho exp(-(mu-lambda) t)
    lam, aht = 1 / 120, 60.0
    e = erlang(lam, aht, 1, answer_within_s=30)
    rho, mu = lam * aht, 1 / aht
    assert e.p_wait == pytest.approx(rho)
    assert e.asa_s == pytest.approx(rho / (mu - lam))
    assert e.service_level == pytest.approx(1 - rho * math.exp(-(mu - lam) * 30))


def test_stable_at_one_thousand_agents() -> None:
    c = erlang(4.0, 240.0, 1000, 20.0)
    a = erlang(4.0, 240.0, 1000, 20.0, patience_s=120.0)
    for e in (c, a):
        assert all(math.isfinite(x) for x in (e.p_wait, e.service_level, e.asa_s))
        assert 0 < e.p_wait < 1 and 0 < e.service_level <= 1
    assert a.p_abandon is not None and 0 < a.p_abandon < a.p_wait
    assert erlang_b(1000, 960.0) == pytest.approx(erlang_b(1000, 960.0))


def test_erlang_a_tends_to_erlang_c_with_endless_patience() -> None:
    c = erlang(1 / 60, 180.0, 4, 20.0)
    a = erlang(1 / 60, 180.0, 4, 20.0, patience_s=1e7)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-3)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-3)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-3)


def test_erlang_a_abandonment_balances_queue_length() -> None:
    # P(abandon) = theta E[queue] / lambda; check against the service level too
    a = erlang(3000 / 3600, 240.0, 195, 20.0, patience_s=120.0)
    assert a.p_abandon is not None
    assert 0 < a.p_abandon < 0.1
    assert a.service_level + a.p_abandon <= 1.0


def test_overloaded_erlang_a_is_finite() -> None:
    a = erlang(1 / 60, 180.0, 2, 20.0, patience_s=60.0)
    assert a.p_abandon == pytest.approx(1 - a.occupancy * 2 / 3, rel=1e-6)


def test_staffing_is_the_fewest_agents_reaching_the_target() -> None:
    e = staff(3000 / 3600, 240.0, 0.8, 20.0)
    assert e.service_level >= 0.8
    assert erlang(3000 / 3600, 240.0, e.agents - 1, 20.0).service_level < 0.8
    a = staff(3000 / 3600, 240.0, 0.8, 20.0, patience_s=120.0)
    assert a.agents < e.agents  # abandonment relieves the queue


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"rate_per_s": -1.0, "aht_s": 1.0, "agents": 1}, "calls_per_second"),
        ({"rate_per_s": 1.0, "aht_s": 0.0, "agents": 1}, "aht_s"),
        ({"rate_per_s": 1.0, "aht_s": 1.0, "agents": 0}, "agents"),
        ({"rate_per_s": 1.0, "aht_s": 1.0, "agents": 1, "patience_s": -5.0}, "patience_s"),
    ],
)
def test_bad_arguments_name_themselves(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ErlangError, match=name):
        erlang(**kwargs)  # type: ignore[arg-type]
