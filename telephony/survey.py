"""The FastAGI script ``survey`` under ``hotline serve``: the caller rates the call.

The dialplan's ``hotline-survey`` runs ``AGI(.../survey)`` on the caller's channel
after the agent hung up first; :func:`survey_script` is what serve's FastAGI
server runs for it (:func:`telephony.handoff.enqueue_handler`'s ``scripts``). The
question and the key are :class:`ivr.survey.SurveyDriver`'s; this module only
publishes the result through the shell's one notifier as a
:class:`telephony.notifier.SurveyTaken` note, rated or not, so the call history,
the CRM link (interaction, case 评价, 满意率) and any other subscriber see it the
same way. The script always answers Asterisk with ``SUCCESS`` (the dialplan then
hangs up): a survey that went wrong is a call not rated, never a dropped record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from acd.types import CallId, Clock
from ivr.survey import SurveyDriver
from telephony.agi import AgiSession
from telephony.notifier import Notifier, SurveyTaken

__all__ = ["survey_script"]


def survey_script(
    driver: SurveyDriver, notifier: Notifier, clock: Clock
) -> Callable[[AgiSession], Awaitable[None]]:
    async def run(agi: AgiSession) -> None:
        result = await driver.run(agi, agi.env.get("agi_uniqueid", ""))
        if not result.call:  # no call id at all: nothing a record could be found by
            return
        notifier.publish(
            SurveyTaken(clock.now(), CallId(result.call), result.outcome.value, result.score)
        )

    return run
