"""Agents' presence over a restart of ``hotline serve``: ``agents.json`` (kept by
:class:`agents.presence.AgentStore`) remembers who was logged in, paused why, and
what an agent asked for after its call; this module is the notifier's subscriber that
writes it and the two steps that read it back at start — the log-ins before AMI
connects, the wishes after the resync has adopted the calls still up.
"""

from __future__ import annotations

from collections.abc import Mapping

from acd import events as ev
from acd.agent import Agent
from acd.types import AgentId
from agents.presence import AgentStore
from telephony.notifier import AfterCallAsked, Note, Subscriber
from telephony.shell import CallShell

__all__ = ["restore_presence", "restore_wishes", "store_subscriber"]


def restore_presence(shell: CallShell, store: AgentStore, roster: Mapping[str, Agent]) -> None:
    """Log back in, paused as they were, the agents ``agents.json`` remembers who are in
    the running ``roster`` (the config's, or the one the admin left)."""
    for agent, reason in store.load().items():
        if agent in roster:
            shell.feed(ev.AgentLoggedIn(AgentId(agent), paused_reason=reason))


def restore_wishes(shell: CallShell, wishes: dict[str, tuple[str, str | None]]) -> None:
    """Ask again, once, what agents asked for after their call before serve stopped: a
    talking agent (adopted by the resync) keeps the wish; one whose call ended while
    serve was down has it applied now."""
    while wishes:
        agent, (wish, reason) = wishes.popitem()
        a = AgentId(agent)
        if wish == "pause":
            shell.feed(ev.AgentPaused(a, reason or "break"))
        elif wish == "ready":
            shell.feed(ev.AgentReady(a))
        elif wish == "logout":
            shell.feed(ev.AgentLoggedOut(a))


def store_subscriber(store: AgentStore) -> Subscriber:
    """The agent store's subscriber: the engine's state changes and the shell's wishes."""

    def notify(note: Note) -> None:
        if isinstance(note, AfterCallAsked):
            store.asked(note.agent, note.wish, note.reason)
        else:
            store.notify(note)

    return notify
