"""The CRM's records as frozen dataclasses: what the store returns and the API shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm.lifecycle import Role, Status

PLACE_LEVELS = ("district", "street", "community", "grid", "building", "unit", "household")


@dataclass(frozen=True, slots=True)
class Address:
    """district → street → community → grid → building → unit → household.

    (人进户、户进房、房进网格: people in households, households in buildings, all in grids.)
    """

    district: str
    street: str
    community: str
    grid: str
    building: str
    unit: str
    household: str

    def parts(self) -> tuple[str, ...]:
        return tuple(getattr(self, lvl) for lvl in PLACE_LEVELS)


@dataclass(frozen=True, slots=True)
class Phone:
    number: str
    kind: str = "mobile"


@dataclass(frozen=True, slots=True)
class NewResident:
    name: str
    phones: tuple[Phone, ...] = ()
    address: Address | None = None
    id_card: str | None = None
    elderly_alone: bool = False
    disability: bool = False
    language: str = "zh"
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Resident:
    id: int
    name: str
    phones: tuple[Phone, ...]
    address: str | None  # the household's path, "district/street/.../household"
    id_card_masked: str | None
    elderly_alone: bool
    disability: bool
    language: str
    notes: str
    version: int


@dataclass(frozen=True, slots=True)
class NewCase:
    category: str
    title: str
    text: str
    resident_id: int | None = None
    priority: str = "normal"
    interaction: str | None = None  # the Asterisk unique id of the call that opened it


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    number: str
    resident_id: int | None
    category: str
    title: str
    text: str
    status: Status
    priority: str
    owner: str
    department: str
    created_at: float
    updated_at: float
    respond_by: float | None
    due_at: float
    dispatched_at: float | None
    signed_at: float | None
    closed_at: float | None
    returns: int
    supervised: bool
    reply: str | None
    resolved: bool | None
    satisfaction: int | None
    version: int


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One row of a case's history: who did what, when, from which state to which, why."""

    at: float
    actor: str
    action: str
    from_status: str | None
    to_status: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Interaction:
    uniqueid: str
    caller: str
    queue: str
    agent: str | None
    started_at: float
    wait_s: float
    talk_s: float
    outcome: str
    resident_id: int | None = None
    case_id: int | None = None
    survey_score: int | None = None
    disposition: str | None = None  # the wrap-up's code ([crm.dispositions])


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    department: str | None = None
    agent_id: str | None = None  # the ACD agent (seat) this user is, for sticky routing


@dataclass(frozen=True, slots=True)
class ScreenPop:
    """What an agent sees the moment a call rings: who it is, what is open, what came before."""

    caller: str
    residents: tuple[Resident, ...]
    open_cases: tuple[Case, ...]
    recent: tuple[Interaction, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class CallerFacts:
    """What the FastAGI hand-off learns of a caller's number (``CaseStore.caller_facts``):
    the ACD agents owning its open cases (most recent first) and the residents' flags."""

    owners: tuple[str, ...] = ()
    elderly_alone: bool = False
    disability: bool = False
