"""A transferred call's record in ``calls.jsonl``: both legs, and back."""

from __future__ import annotations

import json

from acd.events import AgentAnswered, AgentLoggedIn, CallArrived, CallEnded, CallTransferred
from acd.records import record_from_row
from acd.types import TransferKind
from serve.history import CallHistory
from tests.unit.acd.harness import Harness


def test_a_record_with_legs_goes_through_calls_jsonl() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a1"))
    h.at(0, CallArrived("c0", "elderly", priority="elderly_alone"))
    h.at(2, AgentAnswered("c0", "a1"))
    h.at(10, CallTransferred("c0", "a1", TransferKind.QUEUE, "general"))
    h.at(11, AgentLoggedIn("a3"))
    h.at(12, AgentAnswered("c0", "a3"))
    h.at(20, CallEnded("c0"))
    h.run_until(30)
    row = CallHistory(None).add(h.records["c0"])
    back = record_from_row(json.loads(json.dumps(row)))
    assert back == h.records["c0"]
    assert row["transfers"] == 1 and row["legs"][0]["agent"] == "a1"
