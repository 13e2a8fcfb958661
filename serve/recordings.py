"""Recordings and voicemails on the case: ``hotline serve``'s link from the calls'
files to the CRM, and the retention sweep.

Asterisk writes two kinds of file per call, in its spool folder:

- the conversation, when the queue records (``record_calls``): the agent leg's
  ``MixMonitor`` writes ``monitor/hotline-<call>.wav`` (the shell's
  :meth:`telephony.settings.ShellSettings.recording_path`; the note
  :class:`telephony.notifier.CallClosed` carries it);
- the voicemail, at a queue's exit or after hours (:mod:`crm.voicemail`):
  ``hotline-voicemail/<call>.wav``.

:meth:`RecordingLink.notify` is a subscriber of the shell's notifier: it puts
``(call, kind, path)`` on its own queue (never blocking routing) and a writer task
stores the link (:class:`crm.recordings.RecordingStore`, idempotent). The link is
made when the call ends, before Asterisk has necessarily closed the file (a
voicemail is recorded after the caller left the queue): the audio route answers
404 while the file is not there.

**Retention** (``[recordings] retention_days``; 0 keeps them for ever): every
``sweep_s`` the sweep deletes the files older than that and their links, each
deletion written to the CRM's audit log (``recording.expired``, by the user
``hotline``); Hotline's files in the spool that no row links (the CRM was off) are
deleted after the same time, and logged. A supervisor's deletion
(:mod:`serve.web_recordings`) goes through :meth:`RecordingLink.delete` too
(``recording.delete``).

``[recordings]``, read strictly::

    [recordings]
    spool = "/path/to/asterisk/spool"  # as this host sees it; default: the instance's
    retention_days = 180               # 0: keep for ever
    sweep_s = 3600                     # how often the sweep runs
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from acd import effects as fx
from acd.config import AcdConfig
from acd.config_reader import ConfigError
from acd.counters import Count
from acd.records import CallEndedBeforeQueue
from crm.errors import NotFoundError
from crm.lifecycle import Role
from crm.models import User
from crm.recordings import Kind, Recording, check_path
from crm.repository import CrmRepository
from crm.voicemail import left_voicemail, voicemail_path
from telephony import notifier as nt

__all__ = ["RecordingLink", "RecordingSettings", "read_recordings"]

log = logging.getLogger(__name__)

SWEEPER = User("hotline", Role.ADMIN)  # who the retention sweep's deletions are audited as
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class RecordingSettings:
    spool: Path | None = None  # Asterisk's spool folder as this host sees it; None: unknown
    retention_days: float = 180.0  # 0: keep for ever
    sweep_s: float = 3600.0


def read_recordings(config: AcdConfig, spool: Path | None = None) -> RecordingSettings:
    """``[recordings]``; ``spool`` is the default spool (the instance's, if serve knows it)."""
    t = config.section("recordings")
    d = RecordingSettings()
    given = t.optional_text("spool")
    if given is not None and not Path(given).is_dir():
        raise ConfigError(t.key("spool"), f"no such folder: {given!r}")
    s = RecordingSettings(
        spool=Path(given) if given is not None else spool,
        retention_days=t.number("retention_days", d.retention_days, 0, 36500),
        sweep_s=t.number("sweep_s", d.sweep_s, 1, 86400),
    )
    t.done()
    return s


class RecordingLink:
    def __init__(
        self,
        repo: CrmRepository,
        settings: RecordingSettings,
        stats: Counter[str] | None = None,
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.queue: asyncio.Queue[tuple[str, Kind, str]] = asyncio.Queue()

    # the notifier's subscriber: synchronous, never blocks

    def notify(self, note: object) -> None:
        if isinstance(note, nt.CallClosed) and note.recording:
            path = spool_path(note.recording)
            if path is None:
                self.stats[Count.RECORDINGS_UNLINKED] += 1
                log.warning("recording %s of call %s is outside the spool: not linked",
                            note.recording, note.finished.record.call)  # fmt: skip
                return
            self.queue.put_nowait((str(note.finished.record.call), Kind.RECORDING, path))
        elif isinstance(note, CallEndedBeforeQueue) and note.voicemail:
            self.queue.put_nowait((str(note.record.call), Kind.VOICEMAIL, note.voicemail))
        elif isinstance(note, fx.CallFinished) and left_voicemail(note.record):
            call = str(note.record.call)
            self.queue.put_nowait((call, Kind.VOICEMAIL, voicemail_path(call)))

    async def run(self) -> None:
        """The writer: each queued file linked (a failure logged and counted)."""
        while True:
            call, kind, path = await self.queue.get()
            try:
                await self.repo.recordings.add(call, kind, path)
                self.stats[Count.RECORDINGS_LINKED] += 1
            except Exception as e:
                self.stats[Count.RECORDINGS_UNLINKED] += 1
                log.error("%s %s of call %s not linked: %s", kind.value, path, call, e)
            finally:
                self.queue.task_done()

    # the files

    def file(self, rec: Recording) -> Path | None:
        """The file on this host (None: no spool known, or not there (yet, any more))."""
        if self.settings.spool is None:
            return None
        path = self.settings.spool / check_path(rec.path)
        return path if path.is_file() else None

    async def delete(self, rec: Recording, user: User, action: str, why: str) -> None:
        """Delete the file and its link; audited first (``action``), as every deletion is."""
        await self.repo.audit.act(
            user, action, f"recording={rec.id} call={rec.uniqueid} kind={rec.kind.value} {why}"
        )
        if self.settings.spool is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.settings.spool / check_path(rec.path)).unlink()
        with contextlib.suppress(NotFoundError):  # deleted meanwhile by the other way
            await self.repo.recordings.delete(rec.id)

    async def sweep(self) -> int:
        """Delete what is older than the retention; the number deleted."""
        days = self.settings.retention_days
        if days <= 0:
            return 0
        before = self.repo.clock.now() - days * DAY_S
        done = 0
        while batch := await self.repo.recordings.older_than(before):
            for rec in batch:
                await self.delete(rec, SWEEPER, "recording.expired", f"retention={days:g}d")
                self.stats[Count.RECORDINGS_EXPIRED] += 1
                done += 1
        done += await asyncio.to_thread(self._sweep_unlinked, before)
        if done:
            log.info("recordings: %d older than %g days deleted", done, days)
        return done

    def _sweep_unlinked(self, before: float) -> int:
        """Hotline's own files older than ``before`` that no row links (written while
        the CRM was off or failing, or before this version): deleted too, each logged
        (no CRM row to audit them by). Only ``monitor/hotline-*.wav`` and
        ``hotline-voicemail/*.wav``: other files in the spool are not Hotline's."""
        if self.settings.spool is None:
            return 0
        done = 0
        for folder, pattern in (("monitor", "hotline-*.wav"), ("hotline-voicemail", "*.wav")):
            for path in (self.settings.spool / folder).glob(pattern):
                try:
                    if path.stat().st_mtime >= before:
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue
                log.info("recordings: %s expired by its age (no link): deleted", path)
                self.stats[Count.RECORDINGS_EXPIRED] += 1
                done += 1
        return done

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RecordingLink]:
        """The writer and the sweep while the block runs; leaving drains the writer."""

        async def sweeping() -> None:
            while True:
                try:
                    await self.sweep()
                except Exception:  # a failing sweep is logged and retried next period
                    log.exception("recordings: retention sweep failed")
                await asyncio.sleep(self.settings.sweep_s)

        tasks = [asyncio.create_task(self.run()), asyncio.create_task(sweeping())]
        try:
            yield self
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.join(), 5.0)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def spool_path(recording: str) -> str | None:
    """A MixMonitor file name as the spool-relative path the CRM keeps: a bare name is
    in Asterisk's ``monitor/`` folder; an absolute path (``[serve] recordings_dir``) is
    not under the spool this host knows, so it is None."""
    if recording.startswith("/"):
        return None
    return f"monitor/{recording}"
