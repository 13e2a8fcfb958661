"""回访 follow-up calls in ``hotline serve``: the book (:mod:`acd.followup`) carried out.

- **Asked for** by an agent from the desk (its seat is rung first) or by a
  supervisor for a list of cases (any agent of the follow-up queue, paced). The
  case must exist, be visible to the user (a department user sees only its
  department's), be closed (办结) or in the 回访 stage, and have a resident with a
  phone number that can be dialled; one follow-up per case at a time. A refusal
  is :class:`FollowupRefusedError` with the reason (409), an unknown case 404.
- **Placed** as a callback-type call (:func:`telephony.outbound.place_callback`) in
  the follow-up queue; the call is marked for the case first, so its CRM
  interaction (written at the end of the wrap-up) is linked to the case.
- **Recorded**: every attempt's call has its record in ``calls.jsonl`` (``callback``
  true, answered or abandoned) like any call; the follow-up's own log is
  ``followups.jsonl`` in the state directory (one line when asked, one per
  attempt with its outcome and, if retried, when); and the case's history gets a
  ``follow_up_call`` row per attempt with its outcome (``reached``, ``no-answer``,
  ``refused``). The 回访 step itself (``follow_up`` with ``resolved``) is the
  agent's to take on the case after talking to the resident.
- **Refused**: the agent sets ``[followup] refused_disposition`` as the call's
  wrap-up code (the desk's disposition), during the wrap-up or after.

Nothing here holds up routing: CRM writes go through one writer task behind a
queue; a write that fails is logged and counted (``followup_crm_failures``).
Over a restart: the follow-ups not over are kept in ``followups.json`` (state
directory) and each attempt's call, still waiting for an agent, in
``pending.json`` like a resident's callback, restored in its place; a call that
was on when serve stopped and did not come back counts as not reached (retried).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from acd import effects as fx
from acd.config_reader import ConfigError
from acd.counters import Count
from acd.followup import FollowupConfig, Outcome
from acd.followup_book import Followup, FollowupBook, FollowupError, Phase, from_state, to_state
from acd.numbers import is_callback_number
from acd.types import AgentId, CallId, Clock, QueueName
from crm.api_auth import department_scope
from crm.errors import ForbiddenError, NotFoundError
from crm.lifecycle import Status
from crm.models import User
from crm.repository import CrmRepository
from crm.settings import CrmSettings
from telephony.notifier import Note
from telephony.outbound import place_callback
from telephony.shell import CallShell

__all__ = [
    "FOLLOWUP_LOG",
    "FOLLOWUP_STATE",
    "FOLLOW_UP_STATES",
    "FollowupRefusedError",
    "FollowupService",
    "check_with_crm",
]

log = logging.getLogger(__name__)

FOLLOW_UP_STATES = (Status.CLOSED, Status.FOLLOWED_UP)  # 办结, 回访
HISTORY_ACTION = "follow_up_call"
FOLLOWUP_LOG = "followups.jsonl"  # in the state directory
FOLLOWUP_STATE = "followups.json"  # the follow-ups not over, over a restart
MAX_BATCH = 500


def check_with_crm(rule: FollowupConfig | None, crm: CrmSettings | None) -> None:
    """``[followup]`` against the CRM's settings: follow-ups are of cases, and the
    refused code must be one the desk offers. Raises ``ConfigError`` naming the key."""
    if rule is None:
        return
    if crm is None:
        raise ConfigError("followup", "needs [crm]: follow-up calls are of the CRM's cases")
    if rule.refused_disposition not in crm.dispositions:
        raise ConfigError(
            "followup.refused_disposition",
            f"{rule.refused_disposition!r} is not a code of [crm.dispositions]"
            f" (known: {', '.join(crm.dispositions)})",
        )


class FollowupRefusedError(Exception):
    """A follow-up that cannot be asked for (the text says why): 409."""


class FollowupService:
    def __init__(
        self,
        rule: FollowupConfig,
        shell: CallShell,
        repo: CrmRepository,
        clock: Clock,
        log_path: Path,
        stats: Counter[str],
        state_path: Path | None = None,
    ) -> None:
        """``log_path``: the follow-ups' log (``followups.jsonl``); ``state_path``: the
        follow-ups not over, kept over a restart (``followups.json``)."""
        self.rule = rule
        self.book = FollowupBook(rule)
        self.shell = shell
        self.repo = repo
        self.clock = clock
        self.log_path = log_path
        self.stats = stats
        self.writes: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._timer: asyncio.TimerHandle | None = None
        self.state_path = state_path
        self.book.restore(self._load())

    # asking

    async def ask(
        self, case_id: int, user: User, *, agent: str | None = None, paced: bool = True
    ) -> Followup:
        """A follow-up of the case: checked, booked, placed when due (at once for a
        desk request, whose ``agent`` is rung first)."""
        case = await self.repo.cases.get(case_id)  # NotFoundError: 404
        scope = department_scope(user)
        if scope is not None and case.department != scope:
            raise ForbiddenError(f"case {case.number} belongs to another department")
        if case.status not in FOLLOW_UP_STATES:
            raise FollowupRefusedError(
                f"case {case.number} is {case.status.value}: only closed (办结) or"
                " followed-up (回访) cases are followed up"
            )
        number = await self._number(case.number, case.resident_id)
        try:
            f = self.book.add(
                case.id, number, user.name, self.clock.now(), agent=agent, paced=paced
            )
        except FollowupError as e:
            raise FollowupRefusedError(str(e)) from None
        self.stats[Count.FOLLOWUPS_ASKED] += 1
        self._log({"event": "asked", **f.as_dict()})
        self.kick()
        self._save()
        return f

    async def _number(self, case_number: str, resident_id: int | None) -> str:
        if resident_id is None:
            raise FollowupRefusedError(f"case {case_number} has no resident to call")
        try:
            resident = await self.repo.residents.get(resident_id)
        except NotFoundError:
            raise FollowupRefusedError(f"case {case_number}: its resident is gone") from None
        for phone in resident.phones:
            if is_callback_number(phone.number):
                return phone.number
        raise FollowupRefusedError(
            f"case {case_number}: resident {resident_id} has no phone number to dial"
        )

    def get(self, fid: str) -> Followup:
        f = self.book.items.get(fid)
        if f is None:
            raise NotFoundError("follow-up", fid)
        return f

    def for_case(self, case_id: int) -> list[Followup]:
        return [f for f in self.book.items.values() if f.case_id == case_id]

    # placing, on time and paced

    def kick(self) -> None:
        """Place what is due now; wake again when the next one is."""
        now = self.clock.now()
        placed = list(self.book.due(now))
        for f in placed:
            self._place(f, now)
        if placed:
            self._save()
        self._arm(now)

    def resume(self) -> None:
        """After the first resync (pending callbacks restored): a follow-up that was
        calling when serve stopped, whose call the shell no longer holds, ended
        without reaching the resident (its call was lost with the process); then
        place what is due."""
        for call, f in list(self.book.by_call.items()):
            if not self.shell.has_call(CallId(call)):
                log.warning("follow-up %s: call %s did not survive the restart", f.id, call)
                self._ended(call, answered=False, agent=None, now=self.clock.now())
        self.kick()
        self._save()

    def _arm(self, now: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        at = self.book.next_deadline(now)
        if at is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(0.0, at - now) + 0.01, self.kick)

    def _place(self, f: Followup, now: float) -> None:
        call = f.call
        if call is None:  # pragma: no cover - due() returns calling follow-ups only
            return
        self._write(functools.partial(self._mark, call, f.case_id))
        owner = AgentId(f.agent) if f.agent is not None else None
        try:
            placed = place_callback(
                self.shell,
                CallId(call),
                QueueName(self.rule.queue),
                f.number,
                priority=self.rule.priority,
                case_owner=owner,
            )
        except ValueError as e:
            log.error("follow-up %s: call %s not placed: %s", f.id, call, e)
            placed = False
        if placed:
            self.stats[Count.FOLLOWUP_ATTEMPTS] += 1
            return
        self.stats[Count.FOLLOWUP_PLACE_FAILURES] += 1
        self._ended(call, answered=False, agent=None, now=now)

    async def _mark(self, call: str, case_id: int) -> None:
        await self.repo.interactions.mark(call, case_id=case_id)

    # how each attempt ended

    def notify(self, note: Note) -> None:
        """The notifier's subscriber: an attempt's call record is its end."""
        if isinstance(note, fx.CallFinished) and note.record.call in self.book.by_call:
            r = note.record
            self._ended(r.call, answered=r.outcome == "answered", agent=r.agent, now=note_at(r))
            self.kick()

    def _ended(self, call: str, *, answered: bool, agent: str | None, now: float) -> None:
        f = self.book.ended(call, answered=answered, agent=agent, now=now)
        if f is None:
            return
        attempt = f.attempts[-1]
        outcome = attempt.outcome or Outcome.NO_ANSWER
        if f.phase is Phase.DONE:
            count = {
                Outcome.REACHED: Count.FOLLOWUPS_REACHED,
                Outcome.REFUSED: Count.FOLLOWUPS_REFUSED,
                Outcome.NO_ANSWER: Count.FOLLOWUPS_UNREACHED,
            }[outcome]
            self.stats[count] += 1
        retry = f.due_at if f.phase is Phase.DUE else None
        self._log(
            {
                "event": "attempt",
                "id": f.id,
                "case": f.case_id,
                "call": call,
                "attempt": len(f.attempts),
                "outcome": outcome.value,
                "agent": agent,
                "retry_at": retry,
                "done": f.phase is Phase.DONE,
            }
        )
        reason = f"{outcome.value} call={call} attempt={len(f.attempts)}/{self.rule.max_attempts}"
        if retry is not None:
            reason += " retried"
        self._history(f.case_id, agent, reason)
        log.info("follow-up %s of case %s: %s", f.id, f.case_id, reason)
        self.book.forget_done()
        self._save()

    def _history(self, case_id: int, agent: str | None, reason: str) -> None:
        actor = f"agent {agent}" if agent else "hotline"

        async def write() -> None:
            await self.repo.cases.note_call(case_id, actor, HISTORY_ACTION, reason)

        self._write(write)

    async def disposition(self, call: str, code: str, user: User) -> None:
        """The desk's hook: a wrap-up code set on ``call``; the refused one on a
        follow-up call makes its outcome refused (on any other call it is only a code)."""
        if code != self.rule.refused_disposition:
            return
        try:
            await self.refused(call, user)
        except FollowupRefusedError as e:
            log.warning("disposition %s on call %s: %s", code, call, e)

    async def refused(self, call: str, user: User) -> Followup | None:
        """The agent set the refused disposition on ``call``: None if it is no
        follow-up call (an ordinary disposition then)."""
        if call not in self.book.by_call and all(
            a.call != call for f in self.book.items.values() for a in f.attempts
        ):
            return None
        try:
            f = self.book.refuse(call)
        except FollowupError as e:
            raise FollowupRefusedError(str(e)) from None
        if f.phase is Phase.DONE:  # it had ended reached: changed now
            self.stats[Count.FOLLOWUPS_REFUSED] += 1
            self.stats[Count.FOLLOWUPS_REACHED] -= 1
            self._log({"event": "refused", "id": f.id, "case": f.case_id, "call": call})
            self._history(f.case_id, user.agent_id, f"refused call={call}")
        self._save()
        return f

    # writing (never in the routing path)

    def _write(self, job: Callable[[], Awaitable[None]]) -> None:
        """Queue a CRM write for the writer task (made only when it runs)."""
        self.writes.put_nowait(job)

    async def run_writer(self) -> None:
        while True:
            job = await self.writes.get()
            try:
                await job()
            except Exception:
                self.stats[Count.FOLLOWUP_CRM_FAILURES] += 1
                log.exception("follow-up: a CRM write failed")

    def _load(self) -> list[Followup]:
        if self.state_path is None or not self.state_path.exists():
            return []
        try:
            rows = json.loads(self.state_path.read_text(encoding="utf-8"))
            items = [from_state(d) for d in rows]
        except (OSError, ValueError, TypeError) as e:
            log.error("cannot read %s (%s): follow-ups not over are forgotten", self.state_path, e)
            return []
        log.info("%d follow-ups restored from %s", len(items), self.state_path)
        return items

    def _save(self) -> None:
        """The follow-ups not over (the log has the others), written whole, atomically."""
        if self.state_path is None:
            return
        rows = [to_state(f) for f in self.book.items.values() if f.phase is not Phase.DONE]
        try:
            tmp = self.state_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.state_path)
        except OSError as e:
            log.error("cannot write %s: %s", self.state_path, e)

    def _log(self, row: dict[str, Any]) -> None:
        row = {"at": self.clock.now(), **row}
        try:
            with self.log_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        except OSError as e:
            log.error("cannot write %s: %s", self.log_path, e)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FollowupService]:
        """The CRM writer while the block runs; left, what is queued is written."""
        writer = asyncio.create_task(self.run_writer())
        try:
            yield self
        finally:
            if self._timer is not None:
                self._timer.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drain(), 5.0)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _drain(self) -> None:
        while not self.writes.empty():
            await asyncio.sleep(0.05)


def note_at(record: Any) -> float:
    """When the attempt ended: the record's last time."""
    for name in ("wrapup_ended_at", "left_at", "ended_at", "answered_at", "arrived_at"):
        value = getattr(record, name, None)
        if value is not None:
            return float(value)
    return 0.0
