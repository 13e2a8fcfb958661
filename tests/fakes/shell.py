"""The production call shell with its queue_log and call history kept in memory.

``hotline serve`` wires the shell's notifier to files (:mod:`serve.main`); unit
tests read :attr:`RecordingShell.queue_log` lines and :attr:`RecordingShell.history`
rows instead. ``subscribers`` come after those two, as in serve.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from acd.engine import Engine
from acd.types import Clock
from serve.history import CallHistory
from telephony.ami_client import AmiPort
from telephony.notifier import Notifier, Subscriber
from telephony.queue_log import QueueLog
from telephony.settings import ShellSettings
from telephony.shell import CallShell

__all__ = ["RecordingShell"]


class RecordingShell(CallShell):
    def __init__(
        self,
        engine: Engine,
        settings: ShellSettings,
        clock: Clock,
        ami: AmiPort,
        *,
        queue_log: QueueLog | None = None,
        history: CallHistory | None = None,
        subscribers: Sequence[tuple[str, Subscriber]] = (),
        resync: bool = False,
        stats: Counter[str] | None = None,
    ) -> None:
        self.queue_log = queue_log if queue_log is not None else QueueLog(None)
        self.history = history if history is not None else CallHistory(None)
        stats = stats if stats is not None else Counter()
        notifier = Notifier(
            [("queue_log", self.queue_log.notify), ("history", self.history.notify), *subscribers],
            stats=stats,
        )
        super().__init__(
            engine, settings, clock, ami, notifier=notifier, resync=resync, stats=stats
        )
