"""Agents as people: their sessions (presence kept across restarts) and the control of
their seats. The agent *model* and its state machine are the routing core's
(:mod:`acd.agent`, :mod:`acd.agent_state`)."""
