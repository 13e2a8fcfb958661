"""Events, effects and records are values: equal by fields, hashable, read-only to mypy."""

from __future__ import annotations

from pathlib import Path

from mypy import api

from acd import effects as fx
from acd import events as ev
from acd.types import AgentId, CallId, QueueName


def test_messages_are_values() -> None:
    a = fx.OfferCall(CallId("c1"), AgentId("2001"), QueueName("elderly"))
    b = fx.OfferCall(CallId("c1"), AgentId("2001"), QueueName("elderly"))
    assert a == b and hash(a) == hash(b)
    assert len({a, b, ev.CallerAbandoned(CallId("c1"))}) == 2
    assert not hasattr(a, "__dict__")  # slotted


def test_mypy_refuses_assignment_to_a_message(tmp_path: Path) -> None:
    src = tmp_path / "mutate.py"
    src.write_text(
        "from acd import events as ev\n"
        "from acd.types import CallId\n"
        "e = ev.CallerAbandoned(CallId('c1'))\n"
        "e.call = CallId('c2')\n"
    )
    out, _, status = api.run(["--strict", str(src)])
    assert status == 1
    assert "read-only" in out, out
