"""A transferred call's record in ``calls.jsonl``: both legs, and back."""

from __future__ import annotations

import json

from acd.config import MetricsConfig
from acd.effects import CallFinished
from acd.events import AgentAnswered, AgentLoggedIn, CallArrived, CallEnded, CallTransferred
from acd.history_read import read_calls_jsonl
from acd.intervals import interval_rows
from acd.metrics import AgentPart, agent_parts
from acd.records import record_from_row
from acd.types import TransferKind, TransferMode
from serve.history import CallHistory
from serve.today import Today
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
    # hotline report's reader counts it: one transfer, in the queue it entered
    read = read_calls_jsonl([json.dumps(row)], "calls.jsonl")
    assert read.problems == [] and read.transfers == {"c0": 1}
    rows = interval_rows(read.records, MetricsConfig(), transfers=read.transfers)
    assert [(r["queue"], r["transfers"]) for r in rows] == [("*", 1), ("elderly", 1)]


def test_each_agent_is_credited_its_own_part() -> None:
    """The desk's "my day" and any per-agent figure: the first agent's talk to the
    transfer, the second's from it (not the whole call to the last agent)."""
    h = Harness()
    h.at(0, AgentLoggedIn("a1"))
    h.at(0, CallArrived("c0", "general"))
    h.at(2, AgentAnswered("c0", "a1"))
    h.at(3, AgentLoggedIn("a3"))
    h.at(10, CallTransferred("c0", "a1", TransferKind.AGENT, "a3", TransferMode.ATTENDED))
    h.at(40, CallEnded("c0"))
    h.run_until(60)
    r = h.records["c0"]
    assert agent_parts(r) == [AgentPart("a1", 8, 5), AgentPart("a3", 30, 5)]
    today = Today(h.engine.config.metrics, 0.0)
    today.notify(CallFinished(r), 60)
    assert today.my_day("a1", 60)["avg_talk_s"] == 8
    assert today.my_day("a3", 60)["avg_talk_s"] == 30
