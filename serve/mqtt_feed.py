"""What ``hotline serve`` publishes on MQTT: the notifier's notes as messages, and the
retained centre snapshot once a second.

:meth:`MqttFeed.notify` is a subscriber of the shell's notifier: every engine
effect becomes its message (:meth:`serve.topics.Topics.from_effect`: call events,
retained agent states), and the alarm loop's transitions become retained alarm
topics (set when raised, deleted when cleared). The shell-only notes
(``CallEntered``, ``TalkEnded``, ...) are not published: the effects already
carry what they say. :func:`snapshots` publishes the retained per-queue topics and
``.../snapshot`` from the read model every ``period_s``, so a late subscriber
starts from the current state. Both only hand messages to
:class:`serve.mqtt.MqttPublisher`, which never blocks (a broker that is away
costs a bounded buffer and counted drops, never routing time).
"""

from __future__ import annotations

import contextlib
import logging
import typing
from collections.abc import AsyncIterator, Callable, Sequence

from acd import effects as fx
from acd.alarms import Alarm, AlarmCleared, AlarmRaised
from acd.snapshot import CentreView
from acd.types import Clock
from serve.mqtt import MqttPublisher
from telephony.periodic import repeating

__all__ = ["MqttFeed", "snapshots"]

log = logging.getLogger(__name__)

_EFFECTS: tuple[type, ...] = typing.get_args(fx.Effect)


class MqttFeed:
    """The notifier's MQTT subscriber."""

    def __init__(self, publisher: MqttPublisher, clock: Clock) -> None:
        self.publisher = publisher
        self.topics = publisher.topics
        self.clock = clock

    def notify(self, note: object) -> None:
        if isinstance(note, AlarmRaised):
            self.publisher.publish(self.topics.alarm_raised(note.alarm, note.at))
        elif isinstance(note, AlarmCleared):
            self.publisher.publish(self.topics.alarm_cleared(note.alarm))
        elif isinstance(note, _EFFECTS):
            effect = typing.cast(fx.Effect, note)
            self.publisher.publish(self.topics.from_effect(effect, self.clock.now()))


@contextlib.asynccontextmanager
async def snapshots(
    publisher: MqttPublisher,
    view: Callable[[], CentreView],
    alarms: Callable[[], Sequence[Alarm]],
    period_s: float = 1.0,
) -> AsyncIterator[None]:
    """Publish the retained queue and centre snapshot topics every ``period_s`` (a
    failure is logged: a bug here must not end the snapshots for good)."""

    def publish() -> None:
        publisher.publish_all(publisher.topics.from_view(view(), alarms()))

    async with repeating(
        publish, period_s, log=log, failed="MQTT snapshot failed", name="mqtt-snapshots"
    ):
        yield
