"""A supervisor listens to, whispers to, or barges in on an agent's call (ChanSpy).

Asterisk rings the supervisor's own seat (an AMI ``Originate`` of
``PJSIP/<supervisor endpoint>`` into the dialplan context ``hotline-spy``); once
the supervisor answers, that context runs ``ChanSpy(<prefix>,<options>)`` on the
agent's channel. The prefix is ``PJSIP/<agent endpoint>-``: Asterisk names a
channel ``PJSIP/<endpoint>-<sequence>``, so the dash keeps agent 2001 from
matching 20010. The options, from app_chanspy (Asterisk 22):

- ``q``: no beep and no channel name spoken when the spying begins (every mode);
- ``E``: end the supervisor's leg when the spied-on channel hangs up;
- listen: nothing more (hear both sides, say nothing);
- whisper: ``w``: the supervisor talks to the agent only;
- barge: ``B``: the supervisor talks to both sides of the call.

``ActionID`` starts with :data:`ACTION_PREFIX`: the translator knows the
``OriginateResponse`` of a spy leg is not an agent's offer. The shell sends the
action (:meth:`telephony.shell.CallShell.spy`): it is the one AMI user.
"""

from __future__ import annotations

import enum
import itertools

from telephony.settings import ShellSettings

__all__ = ["ACTION_PREFIX", "SPY_CONTEXT", "SpyMode", "originate_fields"]

SPY_CONTEXT = "hotline-spy"  # must match asterisk-conf/extensions.conf
ACTION_PREFIX = "spy-"
RING_S = 30.0  # how long the supervisor's seat rings


class SpyMode(enum.StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


OPTIONS: dict[SpyMode, str] = {SpyMode.LISTEN: "qE", SpyMode.WHISPER: "qEw", SpyMode.BARGE: "qEB"}

_seq = itertools.count(1)


def originate_fields(
    settings: ShellSettings, supervisor: str, agent: str, mode: SpyMode
) -> tuple[str, list[tuple[str, str]]]:
    """(ActionID, the ``Originate`` fields) that ring ``supervisor``'s seat and then
    spy on ``agent``'s channel in ``mode``."""
    action_id = f"{ACTION_PREFIX}{next(_seq)}-{agent}"
    fields = [
        ("Channel", f"PJSIP/{settings.endpoint(supervisor)}"),
        ("Context", SPY_CONTEXT),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", str(int(RING_S * 1000))),
        ("Async", "true"),
        ("CallerID", f'"spy {agent}" <{agent}>'),
        ("Variable", f"HOTLINE_SPY_TARGET=PJSIP/{settings.endpoint(agent)}-"),
        ("Variable", f"HOTLINE_SPY_OPTIONS={OPTIONS[mode]}"),
        ("Variable", f"HOTLINE_SPY_AGENT={agent}"),
        ("Variable", f"HOTLINE_SPY_MODE={mode.value}"),
    ]
    return action_id, fields
