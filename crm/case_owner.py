"""Sticky routing on real calls: at the FastAGI hand-off, the agent who owns the
caller's open case, asked of the CRM within a strict time budget.

**The rule.** The CRM answers :meth:`crm.cases.CaseStore.owner_agents`: among the
open cases of the residents with the caller's (normalised) number, the most
recently updated first, the ``agent_id`` of each case's owner (an enabled CRM user
an admin mapped to an ACD agent). The case owner is the first of those agents
that is an agent of the ACD config; the engine then offers the call to that agent
first, for the queue's ``sticky_s``. No mapped owner, an agent not in the config,
a withheld or garbage number: no case owner, the call is routed as any other.

**Priority from the CRM.** The same query (:meth:`crm.cases.CaseStore.caller_facts`,
one trip to the CRM's reader) tells whether a resident with the caller's number is
flagged elderly living alone or disabled; the caller then gets that priority
class (``FLAG_CLASSES``: ``elderly_alone``, ``disabled``) when the ACD config
declares it, the higher-ranked one when both are flagged. The hand-off keeps the
higher of it and the priority the dialplan or the IVR chose (an emergency stays
one). Counted ``crm_priorities``. Within the same budget as the case owner: late
or failing, the call goes in as normal.

**The budget.** The caller never waits on the CRM: the look-up starts as soon as
the caller's number is known and the hand-off waits for it at most
``[serve] sticky_lookup_s`` (0.05 s) from then; later, the call is enqueued
without a case owner, the look-up is left to finish (its answer dropped), and the
timeout is logged and counted (``sticky_lookup_timeouts``). While
``MAX_PENDING`` look-ups are still unfinished (a CRM stuck on a lock or a slow
disk), new calls do not ask at all (``sticky_lookup_skipped``), so a slow CRM
never piles up work. A failing CRM is logged and counted
(``sticky_lookup_failures``); a call given its case owner counts
``sticky_owners``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping

from acd.counters import Count
from acd.types import AgentId, CallerHint, CallId
from crm.models import CallerFacts

__all__ = ["FLAG_CLASSES", "MAX_PENDING", "CaseOwners", "OwnerLookup"]

log = logging.getLogger(__name__)

MAX_PENDING = 8

OwnerLookup = Callable[[str], Awaitable[CallerFacts]]  # CaseStore.caller_facts
# a resident's flag -> the priority class of the ACD config it entitles the caller to
FLAG_CLASSES = {"elderly_alone": "elderly_alone", "disability": "disabled"}
NO_HINT = CallerHint()


class CaseOwners:
    def __init__(
        self,
        lookup: OwnerLookup,
        agents: Collection[str],
        budget_s: float,
        stats: Counter[str] | None = None,
        *,
        max_pending: int = MAX_PENDING,
        priorities: Mapping[str, int] | None = None,
    ) -> None:
        """``priorities``: the ACD config's classes (those a flag may give); None or
        none of ``FLAG_CLASSES`` among them: no priority from the CRM."""
        if budget_s <= 0:
            raise ValueError(f'"budget_s" must be > 0, got {budget_s}')
        self.lookup = lookup
        self.agents = agents
        self.budget_s = budget_s
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.max_pending = max_pending
        self.priorities = dict(priorities or {})
        self.pending: set[asyncio.Future[CallerFacts]] = set()

    async def owner(self, call: CallId, caller: str) -> AgentId | None:
        """The agent owning the caller's open case, or None (as :meth:`hint`)."""
        return (await self.hint(call, caller)).case_owner

    async def hint(self, call: CallId, caller: str) -> CallerHint:
        """The case owner and the priority class from the CRM (each None when there is
        none); never longer than the budget, never raises (but for cancellation)."""
        facts = await self._facts(call, caller)
        if facts is None:
            return NO_HINT
        owner = self._owner(call, facts)
        priority = self._priority(call, facts)
        return NO_HINT if owner is None and priority is None else CallerHint(owner, priority)

    async def _facts(self, call: CallId, caller: str) -> CallerFacts | None:
        if not caller:
            return None
        if len(self.pending) >= self.max_pending:
            self.stats[Count.STICKY_LOOKUP_SKIPPED] += 1
            log.warning(
                "CRM: %d case-owner look-ups still unfinished: call %s routed without",
                len(self.pending),
                call,
            )
            return None
        started = time.monotonic()
        task: asyncio.Future[CallerFacts] = asyncio.ensure_future(self.lookup(caller))
        self.pending.add(task)
        task.add_done_callback(self._finished)
        # asyncio.wait neither cancels the look-up nor raises its error: a late one
        # finishes on its own (the CRM's reader thread cannot be interrupted anyway).
        await asyncio.wait({task}, timeout=self.budget_s)
        if not task.done():
            self.stats[Count.STICKY_LOOKUP_TIMEOUTS] += 1
            log.warning(
                "CRM: case owner of call %s not known within %.0f ms: routed without",
                call,
                self.budget_s * 1000,
            )
            return None
        if task.cancelled():
            return None
        error = task.exception()
        if isinstance(error, ValueError):  # InvalidIdentifierError: withheld, garbage
            log.debug("call %s: caller %r is no phone number: no case owner", call, caller)
            return None
        if error is not None:
            self.stats[Count.STICKY_LOOKUP_FAILURES] += 1
            log.warning("CRM: case owner of call %s: %s: %s", call, type(error).__name__, error)
            return None
        log.debug("call %s: CRM answered in %.1f ms", call, (time.monotonic() - started) * 1000)
        return task.result()

    def _owner(self, call: CallId, facts: CallerFacts) -> AgentId | None:
        for agent in facts.owners:
            if agent in self.agents:
                self.stats[Count.STICKY_OWNERS] += 1
                log.info("call %s: case owner %s", call, agent)
                return AgentId(agent)
        return None

    def _priority(self, call: CallId, facts: CallerFacts) -> str | None:
        flagged = [
            cls
            for flag, cls in FLAG_CLASSES.items()
            if getattr(facts, flag) and cls in self.priorities
        ]
        if not flagged:
            return None
        best = max(flagged, key=lambda cls: self.priorities[cls])
        self.stats[Count.CRM_PRIORITIES] += 1
        log.info("call %s: priority %s from the CRM's resident flags", call, best)
        return best

    def _finished(self, task: asyncio.Future[CallerFacts]) -> None:
        self.pending.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a late failure (counted as a timeout) is no warning

    async def __aenter__(self) -> CaseOwners:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Cancel the look-ups still running (at shutdown)."""
        for task in list(self.pending):
            task.cancel()
        if self.pending:
            await asyncio.wait(set(self.pending), timeout=1.0)
