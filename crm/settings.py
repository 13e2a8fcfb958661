"""CRM settings: case categories (department and deadline rule), API limits and the
notification sender, read strictly from the ``[crm]`` section; the working days of
the deadlines are the centre's one calendar (``[calendar]``, :mod:`acd.calendar`).

```toml
[crm]
max_body_bytes = 65536
body_timeout_s = 10               # a request body not fully received by then: 408
session_ttl_s = 43200            # a log-in's token expires after this (401 then)
login_max_failures = 5            # wrong passwords in a row that lock a user name out
login_max_failures_per_address = 20   # ... that lock a client address out
login_lockout_s = 300             # the first lockout; doubled at each one after it (1 h at most)
sender = "file"                   # or "http"
outbox_file = "var/sms-outbox.log"
sms_url = "http://127.0.0.1:9000/send"
durability = "full"               # "normal": survives a process crash, not a power cut
reader_cache_mib = 1024           # the reader's own page cache (an upper bound, used as filled)
mmap_mib = 2048                   # the reader maps this much of the file (0: off; SQLite caps it)
prewarm = true                    # fill it with the screen-pop's b-trees at start (background)

[crm.dispositions]                # the wrap-up's codes (code = label); replaces the default list
resolved = "已解答 Resolved"
case_opened = "已建工单 Case opened"

[crm.categories.repair]
label = "维修"
department = "housing"
response_days = 1
resolve_days = 3
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from acd.calendar import Calendar
from acd.config_reader import ConfigError, Table


@dataclass(frozen=True, slots=True)
class Category:
    """A case category: who handles it and how many working days they have."""

    name: str
    label: str
    department: str
    response_days: int  # to sign for (签收) the case after dispatch
    resolve_days: int  # to close (办结) it after acceptance


DEFAULT_CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("elderly_care", "养老服务", "civil_affairs", 1, 5),
        Category("disability", "助残服务", "disabled_federation", 1, 5),
        Category("community", "社区事务", "street_office", 1, 10),
        Category("repair", "维修", "housing", 1, 3),
        Category("complaint", "投诉举报", "market_supervision", 1, 15),
        Category("consultation", "政策咨询", "hotline", 0, 1),
        Category("other", "其他", "street_office", 1, 10),
    )
}


DEFAULT_DISPOSITIONS: dict[str, str] = {
    "resolved": "已解答 Resolved on the call",
    "case_opened": "已建工单 Case opened",
    "case_updated": "已补充工单 Case updated",
    "transferred": "已转办 Referred elsewhere",
    "callback": "需回电 Call back",
    "no_speech": "无声/误拨 Silent or wrong number",
    "nuisance": "骚扰 Nuisance call",
    "refused": "拒绝回访 Refused the follow-up",  # [followup] refused_disposition
}
DISPOSITION_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True, slots=True)
class CrmSettings:
    categories: dict[str, Category] = field(default_factory=lambda: dict(DEFAULT_CATEGORIES))
    calendar: Calendar = field(default_factory=Calendar)
    max_body_bytes: int = 64 * 1024
    body_timeout_s: float = 10.0
    session_ttl_s: int = 12 * 3600
    login_max_failures: int = 5  # wrong passwords in a row before a user name is locked
    login_max_failures_per_address: int = 20  # ... before a client address is locked
    login_lockout_s: int = 300  # the first lockout; doubled at each one after it
    sender: str = "file"
    outbox_file: str = "sms-outbox.log"
    sms_url: str | None = None
    durability: str = "full"
    reader_cache_mib: int = 1024
    mmap_mib: int = 2048
    prewarm: bool = True
    dispositions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_DISPOSITIONS))

    def category(self, name: str) -> Category:
        try:
            return self.categories[name]
        except KeyError:
            known = ", ".join(sorted(self.categories))
            raise ValueError(f"category: unknown category {name!r} (known: {known})") from None


# keys of [crm] that moved to [calendar] (one calendar for the hours and the deadlines)
MOVED_TO_CALENDAR = ("timezone", "holidays", "makeup_days")


def parse_settings(t: Table, calendar: Calendar | None = None) -> CrmSettings:
    """Read a ``[crm]`` table; every error names its key. ``calendar``: the centre's
    (:func:`acd.calendar_config.read_calendar`), for the working-day deadlines."""
    for key in MOVED_TO_CALENDAR:
        if t.has(key):
            raise ConfigError(
                t.key(key), f"moved to [calendar] (calendar.{key}): one calendar for the centre"
            )
    categories = dict(DEFAULT_CATEGORIES)
    cats = t.table("categories")
    for name in cats.names():
        c = cats.table(name)
        base = categories.get(name)
        categories[name] = Category(
            name,
            c.text("label", base.label if base else name),
            c.text("department", base.department if base else None),
            c.integer("response_days", base.response_days if base else 1, 0, 60),
            c.integer("resolve_days", base.resolve_days if base else None, 0, 365),
        )
        c.done()
    sender = t.choice("sender", ("file", "http"), "file")
    sms_url = t.optional_text("sms_url")
    if sender == "http" and not sms_url:
        raise ConfigError(t.key("sms_url"), 'is required when sender = "http"')
    s = CrmSettings(
        categories=categories,
        calendar=calendar if calendar is not None else Calendar(),
        max_body_bytes=t.integer("max_body_bytes", 64 * 1024, 1024, 16 * 1024 * 1024),
        body_timeout_s=t.number("body_timeout_s", 10.0, 0.1, 600.0),
        session_ttl_s=t.integer("session_ttl_s", 12 * 3600, 60, 30 * 24 * 3600),
        login_max_failures=t.integer("login_max_failures", 5, 1, 1000),
        login_max_failures_per_address=t.integer("login_max_failures_per_address", 20, 1, 10000),
        login_lockout_s=t.integer("login_lockout_s", 300, 1, 24 * 3600),
        sender=sender,
        outbox_file=t.text("outbox_file", "sms-outbox.log"),
        sms_url=sms_url,
        durability=t.choice("durability", ("full", "normal"), "full"),
        reader_cache_mib=t.integer("reader_cache_mib", 1024, 2, 1024 * 1024),
        mmap_mib=t.integer("mmap_mib", 2048, 0, 1024 * 1024),
        prewarm=t.flag("prewarm", True),
        dispositions=_dispositions(t),
    )
    t.done()
    return s


def _dispositions(t: Table) -> dict[str, str]:
    """``[crm.dispositions]``: code = label; absent: the default list."""
    if not t.has("dispositions"):
        return dict(DEFAULT_DISPOSITIONS)
    d = t.table("dispositions")
    out = {}
    for code in d.names():
        if not DISPOSITION_CODE.match(code):
            raise ConfigError(
                d.key(code),
                "a code is 1 to 32 of a-z, 0-9, '_', '-' (starting with a letter or digit)",
            )
        out[code] = d.text(code, None)
    d.done()
    if not out:
        raise ConfigError(t.key("dispositions"), "must list at least one code")
    return out
