"""Agents as people: their sessions (:mod:`agents.presence`, kept across restarts)
and the control of their seats (:mod:`agents.control`: commands → engine events).
The agent *model* and its state machine are the routing core's
(:mod:`acd.agent`, :mod:`acd.agent_state`)."""
