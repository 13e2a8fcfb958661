"""Which calls left a voicemail, and the case a voicemail becomes.

Two ways lead a caller to the dialplan's ``hotline-exit,voicemail`` (where ``Record``
keeps the message as ``hotline-voicemail/<call id>.wav`` in Asterisk's spool):

- a queue closed (outside hours, a holiday) and the caller pressed 2
  (:mod:`telephony.after_hours`): the record's outcome is ``voicemail``;
- a queue's exit (its ``[queues.X.overflow] exit``, ``voicemail`` by default): the
  caller waited too long or found the queue full; the record's outcome is
  ``overflowed`` with ``destination`` ``voicemail``.

Either way the call becomes a case (受理, accepted, ready for dispatch) through
:meth:`crm.link.CrmLink.voicemail_case`, and the message is linked to the call's
interaction (hence to the case) by serve's recordings link
(:mod:`serve.recordings`). This module decides only *which* and *what it says*.
"""

from __future__ import annotations

from acd.records import CallRecord
from acd.types import Outcome

__all__ = ["VOICEMAIL_EXIT", "left_voicemail", "voicemail_path", "voicemail_text"]

VOICEMAIL_EXIT = "voicemail"  # the dialplan's extension in hotline-exit that records


def left_voicemail(rec: CallRecord) -> bool:
    """The call went to the voicemail (after hours, or at its queue's exit)."""
    if rec.outcome is Outcome.VOICEMAIL:
        return True
    return rec.outcome is Outcome.OVERFLOWED and rec.destination == VOICEMAIL_EXIT


def voicemail_path(call: str) -> str:
    """Where the dialplan's ``Record`` keeps the message, relative to the spool."""
    return f"hotline-voicemail/{call}.wav"


def voicemail_text(rec: CallRecord) -> tuple[str, str]:
    """The case's title and text (Mandarin, then English)."""
    caller = rec.caller or "withheld"
    path = voicemail_path(str(rec.call))
    if rec.outcome is Outcome.VOICEMAIL:
        why_zh, why_en = "非服务时间来电留言", "Voicemail left outside opening hours"
    else:
        reason = rec.exit_reason.value if rec.exit_reason is not None else "exit"
        why_zh, why_en = "排队未接通来电留言", f"Voicemail left at the queue's exit ({reason})"
    return (
        f"电话留言 Voicemail from {caller}",
        f"{why_zh}（{rec.queue}），录音 {path}，请回电 {caller}。"
        f"{why_en} for {rec.queue}: {path}; call back {caller}.",
    )
