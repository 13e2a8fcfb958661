"""MQTT topics and payloads. These strings and shapes are part of the exposed API:
integrations subscribe to them, so change them only with a CHANGELOG entry.

Every topic starts with ``<prefix>/<centre>`` (``[mqtt] topic_prefix``, default
``hotline``, and ``[mqtt] centre``). Payloads are UTF-8 JSON objects; times are
the engine clock's seconds (``at``, ``since``), durations end in ``_s``.

=====================================  =======  ===========================================
topic                                  retain   payload
=====================================  =======  ===========================================
``.../status``                         yes      ``{"online": true|false}`` (false is the will)
``.../snapshot``                       yes      the whole centre: ``at``, ``queues`` [queue
                                                objects as below], ``agents_by_state``,
                                                ``paused_by_reason``, ``unreachable``,
                                                ``alarms`` [active alarm ids]
``.../queues/<queue>``                 yes      ``at``, ``queue``, ``title``, ``waiting``,
                                                ``ringing``, ``callbacks``, ``longest_wait_s``,
                                                ``agents_logged_in``, ``agents_serving``
                                                (+ ``kpis``: acd.metrics ``Kpis.as_dict()``
                                                when the publisher has them)
``.../agents/<agent>/state``           yes      ``agent``, ``state``, ``previous``,
                                                ``reason`` (pause reason or null), ``since``
``.../alarms/<alarm id>``              yes      while active: ``id``, ``kind``, ``subject``,
                                                ``value``, ``threshold``, ``since``,
                                                ``detail``, ``raised_at``; when cleared an
                                                empty retained message (MQTT's delete)
``.../calls/<call>``                   no       ``event`` (below), ``call``, ``at`` + fields
=====================================  =======  ===========================================

Call events (``event``): ``offered`` (agent, queue, callback), ``offer_cancelled``
(agent, reason), ``exited`` (reason, destination), ``moved`` (from_queue,
to_queue, reason), ``finished`` (``record``: every field of ``acd.records.CallRecord``).

A topic level is the id as it is, except that ``%``, ``/``, ``+`` and ``#`` are
percent-encoded (``%25``, ``%2F``, ``%2B``, ``%23``) so no id can add a level or
a wildcard.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import assert_never

from acd.alarms import Alarm
from acd.effects import (
    AgentStateChanged,
    CallFinished,
    CancelOffer,
    Effect,
    ExitQueue,
    MoveCall,
    OfferCall,
)
from acd.metrics import Kpis
from acd.snapshot import CentreView, QueueView

__all__ = ["CallEvent", "MqttMessage", "Topics"]


class CallEvent:
    """The ``event`` values on ``.../calls/<call>``."""

    OFFERED = "offered"
    OFFER_CANCELLED = "offer_cancelled"
    EXITED = "exited"
    MOVED = "moved"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class MqttMessage:
    topic: str
    payload: bytes  # b"" with retain=True deletes the retained message
    retain: bool


def level(text: str) -> str:
    """One topic level: ``%``, ``/``, ``+``, ``#`` percent-encoded (reversible)."""
    return text.replace("%", "%25").replace("/", "%2F").replace("+", "%2B").replace("#", "%23")


def _json(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class Topics:
    """Builds the topics of one centre and translates the shell's outputs into messages."""

    def __init__(self, prefix: str, centre: str) -> None:
        self.root = f"{prefix}/{level(centre)}"

    # --- topic names -------------------------------------------------------------
    def status(self) -> str:
        return f"{self.root}/status"

    def snapshot(self) -> str:
        return f"{self.root}/snapshot"

    def queue(self, queue: str) -> str:
        return f"{self.root}/queues/{level(queue)}"

    def agent_state(self, agent: str) -> str:
        return f"{self.root}/agents/{level(agent)}/state"

    def alarm(self, alarm_id: str) -> str:
        return f"{self.root}/alarms/{level(alarm_id)}"

    def call(self, call: str) -> str:
        return f"{self.root}/calls/{level(call)}"

    # --- messages ----------------------------------------------------------------
    def online(self, online: bool) -> MqttMessage:
        return MqttMessage(self.status(), _json({"online": online}), retain=True)

    def from_effect(self, effect: Effect, at: float) -> MqttMessage:
        """The message for one engine effect; ``at`` is when the shell saw it."""
        if isinstance(effect, AgentStateChanged):
            body: dict[str, object] = {
                "agent": effect.agent,
                "state": effect.new,
                "previous": effect.old,
                "reason": effect.reason,
                "since": effect.at,
            }
            return MqttMessage(self.agent_state(effect.agent), _json(body), retain=True)
        if isinstance(effect, OfferCall):
            fields: dict[str, object] = {
                "agent": effect.agent,
                "queue": effect.queue,
                "callback": effect.callback is not None,
            }
            return self._call(effect.call, CallEvent.OFFERED, at, fields)
        if isinstance(effect, CancelOffer):
            fields = {"agent": effect.agent, "reason": effect.reason}
            return self._call(effect.call, CallEvent.OFFER_CANCELLED, at, fields)
        if isinstance(effect, ExitQueue):
            fields = {"reason": effect.reason.value, "destination": effect.destination}
            return self._call(effect.call, CallEvent.EXITED, at, fields)
        if isinstance(effect, MoveCall):
            fields = {
                "from_queue": effect.from_queue,
                "to_queue": effect.to_queue,
                "reason": effect.reason,
            }
            return self._call(effect.call, CallEvent.MOVED, at, fields)
        if isinstance(effect, CallFinished):
            record = dataclasses.asdict(effect.record)
            return self._call(effect.record.call, CallEvent.FINISHED, at, {"record": record})
        assert_never(effect)

    def _call(self, call: str, event: str, at: float, fields: dict[str, object]) -> MqttMessage:
        body: dict[str, object] = {"event": event, "call": call, "at": at, **fields}
        return MqttMessage(self.call(call), _json(body), retain=False)

    def alarm_raised(self, alarm: Alarm, at: float) -> MqttMessage:
        body = {**alarm.as_dict(), "raised_at": at}
        return MqttMessage(self.alarm(alarm.id), _json(body), retain=True)

    def alarm_cleared(self, alarm: Alarm) -> MqttMessage:
        return MqttMessage(self.alarm(alarm.id), b"", retain=True)

    def from_view(
        self,
        view: CentreView,
        alarms: Iterable[Alarm] = (),
        kpis: dict[str, Kpis] | None = None,
    ) -> list[MqttMessage]:
        """One retained message per queue, then the whole-centre snapshot."""
        queues = [_queue_body(q, view.at, (kpis or {}).get(q.name)) for q in view.queues]
        out = [
            MqttMessage(self.queue(q.name), _json(b), True)
            for q, b in zip(view.queues, queues, strict=True)
        ]
        snapshot: dict[str, object] = {
            "at": view.at,
            "queues": queues,
            "agents_by_state": dict(view.agents_by_state),
            "paused_by_reason": dict(view.paused_by_reason),
            "unreachable": view.unreachable,
            "alarms": sorted(a.id for a in alarms),
        }
        out.append(MqttMessage(self.snapshot(), _json(snapshot), retain=True))
        return out


def _queue_body(q: QueueView, at: float, kpis: Kpis | None) -> dict[str, object]:
    body: dict[str, object] = {
        "at": at,
        "queue": q.name,
        "title": q.title,
        "waiting": q.waiting,
        "ringing": q.ringing,
        "callbacks": q.callbacks,
        "longest_wait_s": round(q.longest_wait_s, 3),
        "agents_logged_in": q.agents_logged_in,
        "agents_serving": q.agents_serving,
    }
    if kpis is not None:
        body["kpis"] = kpis.as_dict()
    return body
