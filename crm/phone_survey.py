"""The phone survey's score, carried from the call to its case: 评价 and 满意率.

The caller's 1-5 after the agent hung up (:mod:`ivr.survey`) is first the call's
interaction's ``survey_score`` (:meth:`crm.link.CrmLink.survey`). If that
interaction is linked to a case (the case the call was about, see
:mod:`crm.link`), the score is also the case's satisfaction (评价), which the
满意率 KPI (:mod:`crm.kpi`: ratings of 4 or 5 / ratings, over cases closed in the
period) counts:

- a case in 回访 followed-up takes the lifecycle's ``rate`` action (→ 评价 rated),
  as an agent's manual rating would;
- a case in any other state keeps its state; its satisfaction is set and the change
  is written to its history (actor ``phone-survey``);
- a case already rated (by the follow-up's manual 评价) is left as it is: the formal
  rating is not overwritten by a later call's survey.
"""

from __future__ import annotations

import logging

from crm.lifecycle import Action, Command, Role, Status
from crm.models import Case, User
from crm.repository import CrmRepository

__all__ = ["SURVEY_USER", "rate_case"]

log = logging.getLogger(__name__)

SURVEY_USER = User("phone-survey", Role.AGENT)


async def rate_case(repo: CrmRepository, case_id: int, score: int, call: str) -> Case | None:
    """Give the case the survey's score; the case as it is now, None if left alone."""
    case = await repo.cases.get(case_id)
    reason = f"phone survey of call {call}: {score}"
    if case.status is Status.RATED:
        log.info("CRM: case %s already rated: survey of call %s not applied", case.number, call)
        return None
    if case.status is Status.FOLLOWED_UP:
        cmd = Command(Action.RATE, reason=reason, satisfaction=score)
        return await repo.cases.apply(case.id, case.version, cmd, SURVEY_USER)
    return await repo.cases.record_satisfaction(case.id, score, SURVEY_USER, reason)
