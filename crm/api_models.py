"""Request bodies of the JSON API: strict (unknown keys refused), bounded in size,
no NUL character in any text, no NaN or infinity, ids and versions within SQLite's
64-bit integers (each refusal a 422 naming the field)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm.lifecycle import Action, Role

MAX_ID = 2**63 - 1  # SQLite's INTEGER: a larger id or version cannot exist
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Text = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=10_000)]
AgentIdText = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """A NUL character would be stored (and FTS5 would match on it): refused."""
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("contains a NUL character")
        return value


class LoginIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class PhoneIn(Strict):
    number: Annotated[str, Field(min_length=1, max_length=32)]
    kind: Annotated[str, Field(pattern=r"^(mobile|home|work|other)$")] = "mobile"


class AddressIn(Strict):
    district: Text
    street: Text
    community: Text
    grid: Text
    building: Text
    unit: Text
    household: Text


class ResidentIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    phones: Annotated[list[PhoneIn], Field(max_length=8)] = []
    address: AddressIn | None = None
    id_card: Annotated[str, Field(max_length=18)] | None = None
    elderly_alone: bool = False
    disability: bool = False
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")] = "zh"
    notes: Annotated[str, Field(max_length=2000)] = ""


class ResidentPatch(Strict):
    version: Id
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    phones: Annotated[list[PhoneIn], Field(max_length=8)] | None = None
    elderly_alone: bool | None = None
    disability: bool | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")] | None = None
    notes: Annotated[str, Field(max_length=2000)] | None = None


class CaseIn(Strict):
    category: Annotated[str, Field(min_length=1, max_length=64)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    text: Annotated[str, Field(min_length=1, max_length=10_000)]
    resident_id: Id | None = None
    priority: Annotated[str, Field(pattern=r"^(normal|elderly|urgent)$")] = "normal"
    interaction: Annotated[str, Field(max_length=64)] | None = None


class ActionIn(Strict):
    action: Action
    version: Id
    reason: Annotated[str, Field(max_length=2000)] | None = None
    department: Annotated[str, Field(max_length=64)] | None = None
    reply: LongText | None = None
    resolved: bool | None = None
    satisfaction: Annotated[int, Field(ge=1, le=5, strict=True)] | None = None


class SurveyIn(Strict):
    score: Annotated[int, Field(ge=1, le=5, strict=True)]


class InteractionIn(Strict):
    uniqueid: Annotated[str, Field(min_length=1, max_length=64)]
    caller: Annotated[str, Field(max_length=32)]
    queue: Annotated[str, Field(min_length=1, max_length=64)]
    agent: Annotated[str, Field(max_length=64)] | None = None
    started_at: Annotated[float, Field(allow_inf_nan=False)]
    wait_s: Seconds
    talk_s: Seconds
    outcome: Annotated[
        str,
        Field(
            pattern=r"^(answered|abandoned|overflowed|lost|ivr-hangup|self-service|after-hours|voicemail)$"
        ),
    ]
    case_id: Id | None = None


class UserAgentIn(Strict):
    agent_id: AgentIdText | None  # null: the user is no agent (no sticky routing)


class UserIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.@-]+$")]
    password: Annotated[str, Field(min_length=8, max_length=256)]
    role: Role
    department: Annotated[str, Field(max_length=64)] | None = None
    agent_id: AgentIdText | None = None  # the ACD agent (seat) this user is
