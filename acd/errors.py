"""The routing core's one error: an event that does not fit the engine's state."""

from __future__ import annotations

__all__ = ["EngineError"]


class EngineError(Exception):
    """An event that does not fit the engine's state; the state is left unchanged.

    The message names the call or agent, its state and the event, e.g.
    ``call c1: CallEnded, but the call is offered``.
    """
