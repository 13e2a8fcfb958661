"""The call↔CRM link: each finished call becomes an interaction, each offer gets its
caller's screen-pop. Routing never waits for the CRM.

It knows no telephony: ``hotline serve`` (:mod:`serve.crm_link`) subscribes
:meth:`CrmLink.on_effect` to the call shell's notifier and hands it the survey's
``UserEvent`` as a plain mapping (:meth:`CrmLink.on_ami_event`).

**Interactions.** The notifier tells :meth:`CrmLink.on_effect` of every effect,
after the shell carried it out; a ``CallFinished`` record, already a line of ``calls.jsonl``,
is queued (no await) for one writer task that stores it with
``repo.interactions.record_call`` (keyed by the Asterisk unique id of the
caller's channel, which is the call id; the CRM finds the resident by the
caller's number). ``calls.jsonl`` stays the source of truth: a write that fails
is logged with the call id and counted (``crm_failures``) and never retried from
memory; instead the writer *catches up* from ``calls.jsonl`` every ``retry_s``
until it succeeds, and once at start (after a crash, a full disk, a locked
database). Catching up imports the lines after the checkpoint (a byte offset in
``calls.jsonl`` up to which every call is known to be in the CRM;
:mod:`crm.history_tail`) whose call the CRM does not have yet: idempotent by
unique id. A record the CRM refuses as invalid is logged and counted
(``crm_rejected``) and skipped, not retried.

**Which case a call was about** (no guessing beyond this): among the open cases
of the residents with the caller's number, the one case opened while the call
was on (arrival to end, e.g. by the agent during the call), else the caller's
only open case; otherwise none, and the agent links it
(``POST /api/crm/cases`` with ``interaction``, after the call).

**Survey.** The caller's 1-5 after the agent hung up — serve's survey script
through the notifier (:meth:`CrmLink.on_survey`), or ``UserEvent HotlineSurvey``
when the dialplan asked without serve — sets the interaction's score, through the
same writer, and the score of the case the call is linked to
(:mod:`crm.phone_survey`: 评价, counted by 满意率); a score that comes before
the record (during wrap-up) is kept until the record is written. serve's survey
is also a line of ``calls.jsonl``: a score the CRM failed to take is caught up
from there like a record (applied unless the interaction has it already); a score
from the ``UserEvent`` is not in the file, and one the CRM fails to take is lost.

**Screen-pop.** On ``OfferCall`` a task looks up the caller's screen-pop; the
web API (:mod:`serve.web`) awaits that task (:meth:`CrmLink.screen_pop_for`,
which audits each user's first read per call), kept per call until the call
finishes: memory per call ends with the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from acd import effects as fx
from acd.counters import Count
from acd.records import CallEndedBeforeQueue, CallRecord
from acd.types import CallId
from crm.errors import CrmError, NotFoundError
from crm.history_tail import Checkpoint, Survey, read_rows
from crm.lifecycle import Role
from crm.models import NewCase, ScreenPop, User
from crm.phone_survey import rate_case
from crm.repository import CrmRepository
from crm.voicemail import left_voicemail, voicemail_text

__all__ = ["SURVEY_EVENT", "CrmLink"]

log = logging.getLogger(__name__)

SURVEY_EVENT = "HotlineSurvey"
VOICEMAIL_CATEGORY = "other"  # 其他: the dispatcher re-files it when dispatching
VOICEMAIL_ACTOR = User("hotline", Role.DISPATCHER)  # who accepted it: the hotline itself
EARLY_SURVEYS = 10_000  # scores kept waiting for their record (oldest dropped first)


class CrmLink:
    def __init__(
        self,
        repo: CrmRepository,
        history: Path | None,
        checkpoint: Path | None,
        *,
        caller_of: Callable[[CallId], str | None] = lambda call: None,
        stats: Counter[str] | None = None,
        retry_s: float = 10.0,
    ) -> None:
        self.repo = repo
        self.history = history
        self.checkpoint = Checkpoint(history, checkpoint)
        self.caller_of = caller_of
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.retry_s = retry_s
        self.queue: asyncio.Queue[CallRecord | Survey] = asyncio.Queue()
        self.surveys: dict[CallId, int] = {}  # scores that came before their record
        self.behind = False  # a write failed: calls.jsonl has calls the CRM lacks
        self.pops: dict[CallId, asyncio.Task[ScreenPop | str]] = {}
        self.audited: dict[CallId, set[str]] = {}  # call → users shown its screen-pop

    # the notifier's subscriber: synchronous, never raises

    def on_effect(self, e: object) -> None:
        try:
            if isinstance(e, fx.OfferCall):
                if e.call not in self.pops:
                    self.lookup(e.call, self.caller_of(e.call) or "")
            elif isinstance(e, fx.CallFinished):
                self.forget(e.record.call)
                self.queue.put_nowait(e.record)
            elif isinstance(e, CallEndedBeforeQueue):  # the IVR, a closed queue
                self.queue.put_nowait(e.record)
        except Exception:  # pragma: no cover - a bug here must not stop routing
            self.stats[Count.CRM_FAILURES] += 1
            log.exception("CRM link: effect %s not handled", type(e).__name__)

    def on_survey(self, call: CallId, score: int) -> None:
        """A rated survey (serve's FastAGI script, through the notifier)."""
        self.queue.put_nowait(Survey(call, score))

    def on_ami_event(self, msg: Mapping[str, str]) -> None:
        """The survey's ``UserEvent``; every other event is not the CRM's business."""
        if msg.get("Event") != "UserEvent" or msg.get("UserEvent") != SURVEY_EVENT:
            return
        call, text = msg.get("CallId", ""), msg.get("Score", "").strip()
        if not call or text not in ("1", "2", "3", "4", "5"):
            self.stats[Count.CRM_REJECTED] += 1
            log.warning("CRM: survey of call %r: score %r is not 1-5: ignored", call, text)
            return
        self.queue.put_nowait(Survey(CallId(call), int(text)))

    # screen-pop

    def lookup(self, call: CallId, caller: str) -> asyncio.Task[ScreenPop | str]:
        """The screen-pop task for ``call`` (started now if there is none)."""
        task = self.pops.get(call)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._pop(call, caller))
            self.pops[call] = task
        return task

    async def _pop(self, call: CallId, caller: str) -> ScreenPop | str:
        """The screen-pop, or why there is none (withheld number, CRM failure)."""
        try:
            return await self.repo.screen_pop(caller)
        except ValueError as e:  # InvalidIdentifierError: withheld or garbage number
            return str(e)
        except Exception as e:
            self.stats[Count.CRM_SCREENPOP_FAILURES] += 1
            log.warning("CRM: screen-pop for call %s failed: %s", call, e)
            return f"the CRM is unavailable ({type(e).__name__})"

    async def screen_pop_for(
        self, user: User, call: CallId, caller: str, agent: str, wait_s: float
    ) -> dict[str, Any]:
        """The offer's screen-pop for ``user`` (waiting at most ``wait_s`` for a slow
        CRM), or why there is none; the first read per user and call is audited."""
        task = self.lookup(call, caller)
        await asyncio.wait({task}, timeout=wait_s)
        if not task.done():
            return {"screen_pop": None, "screen_pop_error": "the CRM is slow: try again"}
        if task.cancelled():
            return {"screen_pop": None, "screen_pop_error": "the call has finished"}
        pop = task.result()
        if isinstance(pop, str):
            return {"screen_pop": None, "screen_pop_error": pop}
        # every read of a resident's record is audited, once per user and call (and
        # not remembered for a call that finished meanwhile: it is forgotten)
        seen = self.audited.get(call, set())
        if user.name not in seen:
            ids = [r.id for r in pop.residents]
            await self.repo.audit.record(
                user, "screenpop", ids, f"caller={caller} call={call} agent={agent}"
            )
            seen.add(user.name)
            if call in self.pops:
                self.audited.setdefault(call, seen)
        return {"screen_pop": dataclasses.asdict(pop)}

    def forget(self, call: CallId) -> None:
        task = self.pops.pop(call, None)
        if task is not None and not task.done():
            task.cancel()
        self.audited.pop(call, None)

    # interactions

    async def run(self) -> None:
        """The writer: catch up, then write queued records; catch up again when behind."""
        await self.catch_up()
        while True:
            try:
                timeout = self.retry_s if self.behind else None
                item = await asyncio.wait_for(self.queue.get(), timeout)
            except TimeoutError:
                await self.catch_up()
                continue
            try:
                if isinstance(item, Survey):
                    await self.survey(item)
                else:
                    await self.write(item)
            finally:
                self.queue.task_done()
            if self.queue.empty() and not self.behind:
                self.checkpoint.save(self.checkpoint.history_size(), throttle=True)

    async def close(self, timeout_s: float = 5.0) -> None:
        """Let the writer drain the queue (for at most ``timeout_s``); see :meth:`run`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.join(), timeout_s)
        if self.queue.empty() and not self.behind:
            self.checkpoint.save(self.checkpoint.history_size())
        for call in list(self.pops):
            self.forget(call)

    async def write(self, rec: CallRecord) -> bool:
        """Store one record; False if it is not in the CRM (logged, counted)."""
        try:
            await self.store(rec)
        except (CrmError, ValueError) as e:  # the CRM refuses it: retrying will not help
            self.stats[Count.CRM_REJECTED] += 1
            log.error("CRM: call %s refused, not recorded as an interaction: %s", rec.call, e)
            return False
        except Exception as e:  # locked, disk full, closed: calls.jsonl keeps it
            self.stats[Count.CRM_FAILURES] += 1
            self.behind = True
            log.error(
                "CRM: interaction for call %s not written (%s: %s); it is in calls.jsonl"
                " and is retried every %g s",
                rec.call,
                type(e).__name__,
                e,
                self.retry_s,
            )
            return False
        self.stats[Count.CRM_INTERACTIONS] += 1
        return True

    async def store(self, rec: CallRecord) -> None:
        # a voicemail's case is opened once: with its interaction's first write
        new_voicemail = left_voicemail(rec) and not await self._has(rec.call)
        case = await self.case_for(rec)
        await self.repo.interactions.record_call(rec, case)
        if new_voicemail:
            await self.voicemail_case(rec)
        score = self.surveys.pop(rec.call, None)
        if score is not None:
            await self.survey(Survey(rec.call, score))

    async def voicemail_case(self, rec: CallRecord) -> None:
        """A voicemail (left while the queue was closed, or at the queue's exit) becomes
        a case (受理, ready to be dispatched), linked to the call; the message is the
        call's file in the instance's ``hotline-voicemail/`` spool (:mod:`crm.voicemail`)."""
        resident = None
        with contextlib.suppress(ValueError):  # a withheld number: a case without one
            pop = await self.repo.screen_pop(rec.caller)
            resident = pop.residents[0].id if len(pop.residents) == 1 else None
        title, text = voicemail_text(rec)
        case = await self.repo.cases.create(
            NewCase(
                VOICEMAIL_CATEGORY, title, text, resident_id=resident, interaction=str(rec.call)
            ),
            VOICEMAIL_ACTOR,
        )
        self.stats[Count.CRM_VOICEMAIL_CASES] += 1
        log.info("CRM: voicemail of call %s is case %s", rec.call, case.number)

    async def survey(self, s: Survey) -> None:
        try:
            it = await self.repo.interactions.set_survey(str(s.call), s.score)
            if it.case_id is not None:
                await rate_case(self.repo, it.case_id, s.score, str(s.call))
        except NotFoundError:  # the record comes at the end of the wrap-up
            self.surveys[s.call] = s.score
            if len(self.surveys) > EARLY_SURVEYS:  # a score for a call that never ends
                del self.surveys[next(iter(self.surveys))]
        except Exception as e:  # calls.jsonl has it (serve's survey): caught up later
            self.stats[Count.CRM_FAILURES] += 1
            self.behind = True
            log.error("CRM: survey score %d of call %s not written: %s", s.score, s.call, e)

    async def case_for(self, rec: CallRecord) -> int | None:
        """The case the call was about (see the module's doc), or None."""
        try:
            pop = await self.repo.screen_pop(rec.caller)
        except ValueError:  # InvalidIdentifierError: withheld or garbage number
            return None
        end = rec.wrapup_ended_at or rec.ended_at or rec.left_at or rec.arrived_at
        during = [c for c in pop.open_cases if rec.arrived_at <= c.created_at <= end]
        if len(during) == 1:
            return during[0].id
        if len(pop.open_cases) == 1:
            return pop.open_cases[0].id
        return None

    async def catch_up(self) -> int:
        """Import the calls of ``calls.jsonl`` the CRM lacks; the number imported."""
        if self.history is None:
            self.behind = False
            return 0
        start = self.checkpoint.load()
        try:
            rows = await asyncio.to_thread(read_rows, self.history, start)
        except OSError as e:
            log.error("CRM: cannot read %s (%s): retried in %g s", self.history, e, self.retry_s)
            self.behind = True
            return 0
        done, imported = start, 0
        self.behind = False
        for end, rec in rows:
            if rec is None:
                self.stats[Count.CRM_BAD_LINES] += 1
            elif isinstance(rec, Survey):
                await self._catch_up_survey(rec)
                if self.behind:
                    break
            else:
                present = True
                try:
                    present = await self._has(rec.call)
                except Exception as e:
                    self.stats[Count.CRM_FAILURES] += 1
                    log.error("CRM: cannot read interaction %s (%s): retried later", rec.call, e)
                    self.behind = True
                if not self.behind and not present:
                    imported += await self.write(rec)
                if self.behind:  # still failing: try again later from this line
                    break
            done = end
        self.checkpoint.save(done)
        if imported:
            log.info("CRM: caught up %d call(s) from %s", imported, self.history)
        return imported

    async def _catch_up_survey(self, s: Survey) -> None:
        """A survey line of ``calls.jsonl``: its score, unless the CRM has it already."""
        try:
            it = await self.repo.interactions.get(str(s.call))
        except NotFoundError:  # its record is further on (or not imported yet)
            self.surveys[s.call] = s.score
            return
        except Exception as e:
            self.stats[Count.CRM_FAILURES] += 1
            log.error("CRM: cannot read interaction %s (%s): retried later", s.call, e)
            self.behind = True
            return
        if it.survey_score != s.score:
            await self.survey(s)

    async def _has(self, call: CallId) -> bool:
        try:
            await self.repo.interactions.get(str(call))
        except NotFoundError:
            return False
        return True
