"""Runtime administration of a running ``hotline serve``: an agent's skills, agents
added and removed, the config file reloaded — without a restart, each change audited.

The roster changes reach the routing core as events through the shell's one way in
(``feed``): :class:`acd.events.AgentSkillsChanged`, :class:`acd.events.AgentAdded`,
:class:`acd.events.AgentRemoved`; nothing here touches the engine's dictionaries.
Calls and agents keep their state: a skill change applies to the agent's next offer
(a waiting call it can now serve is offered at once); an agent is removed only
when logged out.

**Reload** (:meth:`RuntimeAdmin.reload`) reads the file serve was started with (or
another) as strictly as at start. It is all or nothing:

- a file that does not load is refused whole, with the key and why (``ConfigError``);
- a change outside ``[[agents]]`` (queues, priorities, rules, the centre, any
  extension section) is refused whole, naming the first changed key: those need a
  restart (the queues' pools and timers are built from them);
- an agent the file drops that is logged in is refused whole (log it out first);
- an agent whose ``name`` or ``wrapup_s`` changed is refused (a restart applies it);
- otherwise the differences become events, removals first, then additions, then
  skill changes, and the file becomes the running config for the next reload.

**Seats** (:mod:`serve.seats`): an agent needs a PJSIP endpoint in Asterisk to be
rung. With a local instance (``hotline serve --instance``) an add, a remove or a
reload that adds or removes agents first re-renders the instance's seats from the
roster it is about to have and reloads ``res_pjsip.so``, then changes the roster:
the answer's ``pjsip`` says what was done (``added``, ``removed``, ``reloaded``); an
add's also gives the seat's SIP ``username`` and ``password`` (``hotline asterisk
password`` prints it too). If the seats cannot follow (file not writable, reload
refused or unanswered) the change is refused whole (503, field ``pjsip``, audited
``<action>.refused``): the roster is unchanged and the error says what Asterisk has.
Should the roster then refuse the change (409), the seats are put back to the
roster. Without a local instance ``pjsip`` is ``"not managed: ..."``: the endpoint
is the operator's to add.

**Kept over a restart** (:mod:`serve.roster_state`): after each change the running
roster is saved in ``roster.json``; a restarted serve runs it again while the config
file's ``[[agents]]`` is as it was (edited since: the file wins, the saved roster is
set aside and the drop audited).

**Audit**: every change (and every refusal) is one line of ``admin.jsonl`` in the
state directory (who, when, what) and, with the CRM on, a row of the CRM's audit log
(``admin.<action>``), written before the change is made.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from acd import events as ev
from acd.agent import Agent
from acd.agent_state import AgentState
from acd.config import AcdConfig, load_config
from acd.config_reader import ConfigError
from acd.engine import EngineError
from acd.types import AgentId
from serve.roster_diff import describe, first_difference, seats_after, summary
from serve.roster_state import RosterState, agents_digest, restore
from serve.seats import Seats, SeatsError, Unmanaged

__all__ = ["AdminError", "RuntimeAdmin", "Who"]

log = logging.getLogger("hotline.admin")

Feed = Callable[[ev.Event], object]  # CallShell.feed(strict=True): raises EngineError
CrmAudit = Callable[[str, str, str, str], Awaitable[None]]  # (user, role, action, detail)


@dataclasses.dataclass(frozen=True, slots=True)
class Who:
    """Who asks: a CRM user (name, role) or the control socket's peer."""

    name: str
    role: str


class AdminError(Exception):
    """A refusal naming ``key`` (a config key or a request field) and why; ``status``
    is the HTTP status it maps to (422 bad input, 404 unknown agent, 409 state)."""

    def __init__(self, key: str, why: str, status: int = 422) -> None:
        self.key = key
        self.why = why
        self.status = status
        super().__init__(f"{key}: {why}" if key else why)


class RuntimeAdmin:
    def __init__(
        self,
        agents: Mapping[str, Agent],
        running: AcdConfig,
        config_path: Path,
        feed: Feed,
        journal: Path | None,
        crm_audit: CrmAudit | None = None,
        load: Callable[[Path], AcdConfig] | None = None,
        seats: Seats | None = None,
        state: RosterState | None = None,
    ) -> None:
        """``agents``: the engine's roster (read-only); ``running``: the config serve
        runs; ``journal``: ``admin.jsonl``; ``load``: how a file is read (strictly);
        ``seats``: Asterisk's PJSIP seats (:mod:`serve.seats`; None: not managed);
        ``state``: where the changed roster is kept over a restart
        (:mod:`serve.roster_state`; None: not kept)."""
        self.agents = agents
        self.running = running
        self.config_path = config_path
        self.feed = feed
        self.journal = journal
        self.crm_audit = crm_audit
        self.load: Callable[[Path], AcdConfig] = load if load is not None else load_config
        self.seats: Seats = seats or Unmanaged("serve was given no Asterisk instance")
        self.state = state
        self.seats_stale = False  # restore() found a saved roster: seats_follow() checks
        self.base = agents_digest(running)  # the config's [[agents]] the changes start from
        self.lock = asyncio.Lock()  # one change at a time (a reload spans awaits)

    # the audit

    async def audit(self, who: Who, action: str, detail: str) -> None:
        row = {"at": time.time(), "user": who.name, "role": who.role, "action": action}
        row["detail"] = detail
        log.info("%s by %s (%s): %s", action, who.name, who.role, detail)
        if self.journal is not None:
            with self.journal.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        if self.crm_audit is not None:
            await self.crm_audit(who.name, who.role, f"admin.{action}", detail)

    async def _apply(
        self,
        who: Who,
        action: str,
        detail: str,
        events: list[ev.Event],
        seats: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | str | None:
        """Audit, make the PJSIP ``seats`` (id -> name; None: they do not change),
        then feed ``events``: what the seats' sync did."""
        await self.audit(who, action, detail)
        pjsip = None
        if seats is not None:
            try:
                pjsip = await self.seats.sync(seats)
            except SeatsError as err:
                await self.audit(who, f"{action}.refused", f"{detail}: pjsip: {err}")
                raise AdminError("pjsip", f"{err}; the roster is unchanged", 503) from None
        for e in events:
            try:
                self.feed(e)
            except EngineError as err:
                await self.audit(who, f"{action}.refused", f"{detail}: {err}")
                if seats is not None:
                    await self._seats_back()
                raise AdminError("", str(err), 409) from None
        self._save()
        return pjsip

    def _save(self) -> None:
        """Keep the running roster for the next start (a failure is logged: the change
        is made; only its keeping over a restart is lost)."""
        if self.state is None:
            return
        try:
            self.state.save(self.base, self.agents, time.time())
        except OSError as e:
            log.error("the roster is changed but not kept over a restart: %s", e)

    async def restore(self) -> list[ev.Event]:
        """At start, before anyone logs in: the roster the admin left, when the config's
        ``[[agents]]`` is as it was then (:mod:`serve.roster_state`); the events fed."""
        if self.state is None:
            return []
        system = Who("serve", "system")

        async def audit(action: str, detail: str) -> None:
            await self.audit(system, action, detail)

        self.seats_stale = self.state.path.exists()  # the seats file may not match
        return await restore(self.state, self.base, self.agents, self.feed, audit, summary)

    async def seats_follow(self) -> None:
        """Once AMI is up at start, after a roster was restored or dropped: the PJSIP
        seats as the running roster (``hotline asterisk start`` renders the config's)."""
        if not self.seats_stale:
            return
        self.seats_stale = False
        try:
            done = await self.seats.sync(self.roster())
        except SeatsError as e:
            log.error("the PJSIP seats do not follow the restored roster: %s", e)
            return
        log.info("PJSIP seats after the roster's restore: %s", done)

    async def _seats_back(self) -> None:
        """The seats as the roster is (after the roster refused a change)."""
        try:
            await self.seats.sync(self.roster())
        except SeatsError as err:
            log.error("PJSIP seats not put back to the roster: %s", err)

    def roster(self) -> dict[str, str]:
        """The running roster: agent -> display name."""
        return {a: agent.name for a, agent in self.agents.items()}

    # the changes

    def agent(self, agent: str) -> Agent:
        a = self.agents.get(agent)
        if a is None:
            raise AdminError("agent", f"no agent {agent!r} in the roster", 404)
        return a

    async def set_skills(self, who: Who, agent: str, skills: Mapping[str, int]) -> dict[str, Any]:
        self.agent(agent)
        checked = check_skills(skills)
        async with self.lock:
            event = ev.AgentSkillsChanged(AgentId(agent), checked)
            await self._apply(who, "skills", f"agent={agent} skills={_text(checked)}", [event])
        return self.view(agent)

    async def add(
        self,
        who: Who,
        agent: str,
        name: str,
        skills: Mapping[str, int],
        wrapup_s: float | None = None,
    ) -> dict[str, Any]:
        if not agent.isdigit() or len(agent) > 20:
            raise AdminError("agent", f"{agent!r} is not a seat number (digits)")
        if agent in self.agents:
            raise AdminError("agent", f"agent {agent} is already in the roster", 409)
        if wrapup_s is not None and not 0 <= wrapup_s <= 86400:
            raise AdminError("wrapup_s", f"{wrapup_s!r} is not in 0..86400")
        checked = check_skills(skills)
        async with self.lock:
            if agent in self.agents:  # added meanwhile
                raise AdminError("agent", f"agent {agent} is already in the roster", 409)
            event = ev.AgentAdded(AgentId(agent), name or agent, checked, wrapup_s)
            seats = {**self.roster(), agent: event.name}
            detail = f"agent={agent} skills={_text(checked)}"
            pjsip = await self._apply(who, "add", detail, [event], seats)
        password = self.seats.password(agent)
        if isinstance(pjsip, dict) and password is not None:
            pjsip = {**pjsip, "username": agent, "password": password}
        return {**self.view(agent), "pjsip": pjsip}

    async def remove(self, who: Who, agent: str) -> dict[str, Any]:
        a = self.agent(agent)
        async with self.lock:
            if a.state is not AgentState.LOGGED_OUT:
                why = f"agent {agent} is {a.state.value}: log it out first"
                await self.audit(who, "remove.refused", why)
                raise AdminError("agent", why, 409)
            seats = {a: n for a, n in self.roster().items() if a != agent}
            event = ev.AgentRemoved(AgentId(agent))
            pjsip = await self._apply(who, "remove", f"agent={agent}", [event], seats)
        return {"agent": agent, "removed": True, "pjsip": pjsip}

    async def reload(self, who: Who, path: Path | None = None) -> dict[str, Any]:
        """Reload the config (see the module's doc): what changed, or :class:`AdminError`."""
        source = path or self.config_path
        async with self.lock:
            try:
                new = await asyncio.to_thread(self.load, source)
                events = self.plan(new)
            except ConfigError as e:
                await self.audit(who, "reload.refused", f"file={source}: {e}")
                raise AdminError(e.key, e.message) from None
            except AdminError as e:
                await self.audit(who, "reload.refused", f"file={source}: {e}")
                raise
            said = summary(events)
            seats = seats_after(self.roster(), events)
            base, self.base = self.base, agents_digest(new)  # what is saved is the file's
            try:
                pjsip = await self._apply(who, "reload", f"file={source} {said}", events, seats)
            except AdminError:
                self.base = base
                raise
            self.running = new
        answer = {"file": str(source), "changes": [describe(e) for e in events]}
        return answer if seats is None else {**answer, "pjsip": pjsip}

    def plan(self, new: AcdConfig) -> list[ev.Event]:
        """The events that take the running roster to ``new``'s (AdminError if not all
        of the file's changes can be applied without a restart)."""
        changed = first_difference(self.running, new)
        if changed is not None:
            raise AdminError(changed, "changed: only [[agents]] is reloaded; restart to apply it")
        old_agents, new_agents = self.running.agents, new.agents
        removals: list[ev.Event] = []
        for agent in old_agents:
            if agent in new_agents:
                continue
            live = self.agents.get(agent)
            if live is not None and live.state is not AgentState.LOGGED_OUT:
                raise AdminError(
                    f"agents.{agent}",
                    f"removed, but the agent is {live.state.value}: log it out first",
                )
            if live is not None:
                removals.append(ev.AgentRemoved(AgentId(agent)))
        additions: list[ev.Event] = []
        changes: list[ev.Event] = []
        for agent, cfg in new_agents.items():
            live = self.agents.get(agent)
            skills = {str(s): lvl for s, lvl in cfg.skills}
            if live is None:
                additions.append(ev.AgentAdded(AgentId(agent), cfg.name, skills, cfg.wrapup_s))
                continue
            old = old_agents.get(agent)
            if old is not None:
                for key in ("name", "wrapup_s"):
                    if getattr(old, key) != getattr(cfg, key):
                        raise AdminError(f"agents.{agent}.{key}", "changed: restart to apply it")
            if skills != live.skills:
                changes.append(ev.AgentSkillsChanged(AgentId(agent), skills))
        return removals + additions + changes

    def view(self, agent: str) -> dict[str, Any]:
        a = self.agent(agent)
        return {
            "agent": a.id,
            "name": a.name,
            "skills": dict(a.skills),
            "wrapup_s": a.wrapup_s,
            "state": a.state.value,
        }


def check_skills(skills: Mapping[str, int]) -> dict[str, int]:
    """Skills as the config has them: names, levels 1-10 (the field named in the error)."""
    if not isinstance(skills, Mapping) or not skills:
        raise AdminError("skills", "expected a table of skill = level (1-10), at least one")
    out: dict[str, int] = {}
    for skill, level in skills.items():
        if not isinstance(skill, str) or not skill or len(skill) > 64:
            raise AdminError("skills", f"{skill!r} is not a skill name")
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            raise AdminError(f"skills.{skill}", f"level {level!r} is not in 1..10")
        out[skill] = level
    return out


def _text(skills: Mapping[str, int]) -> str:
    return ",".join(f"{k}:{v}" for k, v in sorted(skills.items()))
