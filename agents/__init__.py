"""Agents: the pure agent model and its state machine (used by the engine),
plus, in shell modules, sessions and softphones."""

from agents.agent import AfterCall, Agent
from agents.state import Action, AgentState, IllegalTransitionError, transition

__all__ = ["Action", "AfterCall", "Agent", "AgentState", "IllegalTransitionError", "transition"]
