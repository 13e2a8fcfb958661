"""A synthetic city for benchmarks and demos: residents in the address tree, phones,
cases and calls, written straight into a CRM database with the real schema.

Deterministic for a seed. Bulk-loads with one transaction per table and builds
the full-text index once at the end (dropping and restoring the insert trigger),
so a million residents and three million cases take minutes, not hours.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass

from crm.file_modes import private_files
from crm.id_key import id_card_hash, load_or_create
from crm.identity import id_card_check_digit, mask_id_card
from crm.lifecycle import OPEN_STATES, Status
from crm.migrate import migrate
from crm.settings import DEFAULT_CATEGORIES

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国志红"
PROBLEMS = [
    ("repair", "楼道灯不亮", "{b}楼道照明损坏多日，老人夜间出行不便"),
    ("repair", "水管漏水", "{b}{u}家中水管漏水严重，影响楼下住户"),
    ("repair", "电梯故障", "{b}电梯停运，独居老人无法下楼"),
    ("elderly_care", "申请助餐", "独居老人申请社区助餐服务，每日午餐送餐上门"),
    ("elderly_care", "居家养老", "咨询居家养老服务补贴如何申请"),
    ("disability", "无障碍通道", "{b}门口无障碍坡道被占用，轮椅无法通行"),
    ("community", "噪音扰民", "{b}附近夜间施工噪音扰民，影响休息"),
    ("community", "垃圾清运", "小区垃圾未及时清运，气味难闻"),
    ("complaint", "Noise complaint", "Loud construction noise at night near {b}"),
    ("complaint", "价格欺诈", "商户明码标价与实际收费不符"),
    ("consultation", "政策咨询", "咨询医保报销比例和办理流程"),
    ("other", "Water leak", "Water leaking from the ceiling in {b} {u}"),
]
OPEN = sorted(s.value for s in OPEN_STATES)
DONE = [Status.CLOSED.value, Status.FOLLOWED_UP.value, Status.RATED.value]


@dataclass(frozen=True, slots=True)
class Size:
    residents: int
    cases_per_resident: float = 3.0
    calls_per_resident: float = 1.5
    seed: int = 1


def phone_for(i: int) -> str:
    """The mobile number of resident i (1-based): unique and reproducible."""
    return f"13{(i * 7919) % 1_000_000_000:09d}"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _id_card(rng: random.Random, i: int) -> str:
    birth = f"{rng.randint(1930, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"{110000 + i // 1000:06d}{birth}{i % 1000:03d}"  # unique per i
    return first17 + id_card_check_digit(first17)


def _places(conn: sqlite3.Connection, households: int) -> list[int]:
    """A tree with about ``households`` households; returns their place ids."""
    fan = [("district", 8), ("street", 8), ("community", 6), ("grid", 4), ("building", 6)]
    rows: list[tuple[int, int | None, str, str, str]] = []
    next_id = 1
    level: list[tuple[int | None, str]] = [(None, "")]
    for name, n in fan:
        nxt: list[tuple[int | None, str]] = []
        for parent, path in level:
            for k in range(n):
                label = f"{name[0].upper()}{k + 1}"
                p = f"{path}/{label}" if path else label
                rows.append((next_id, parent, name, label, p))
                nxt.append((next_id, p))
                next_id += 1
        level = nxt
    per_building = max(1, -(-households // len(level)))
    units = max(1, min(6, per_building // 8))
    homes: list[int] = []
    for parent, path in level:
        unit_ids = []
        for u in range(units):
            label = f"{u + 1}单元"
            rows.append((next_id, parent, "unit", label, f"{path}/{label}"))
            unit_ids.append((next_id, f"{path}/{label}"))
            next_id += 1
        for h in range(per_building):
            uid, upath = unit_ids[h % units]
            label = f"{h // units + 1:03d}"
            rows.append((next_id, uid, "household", label, f"{upath}/{label}"))
            homes.append(next_id)
            next_id += 1
    conn.executemany(
        "INSERT INTO places (id, parent_id, level, name, path) VALUES (?,?,?,?,?)", rows
    )
    return homes


def _residents(
    rng: random.Random, n: int, homes: list[int], t0: float, key: bytes
) -> Iterator[tuple]:  # type: ignore[type-arg]
    for i in range(1, n + 1):
        old = rng.random() < 0.12
        card = _id_card(rng, i)  # stored hashed and masked, never in clear (crm.id_key)
        yield (
            i, _name(rng), homes[(i - 1) * len(homes) // n], id_card_hash(key, card),
            mask_id_card(card), old,
            rng.random() < 0.03, "en" if rng.random() < 0.01 else "zh", "", t0, t0,
        )  # fmt: skip


def generate(path: str, size: Size, now: float | None = None, log: bool = False) -> dict[str, int]:
    """Fill an empty database at ``path``; return row counts."""
    rng = random.Random(size.seed)
    now = time.time() if now is None else now
    t0 = now - 2 * 365 * 86400
    private_files(path)  # umask 077: the file and its key are the user's only
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    migrate(conn)
    if conn.execute("SELECT count(*) FROM residents").fetchone()[0]:
        raise RuntimeError(f"{path} already has residents; generate into an empty database")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    fts_trigger = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'cases_fts_insert'"
    ).fetchone()[0]

    def step(what: str) -> None:
        if log:
            print(f"generate: {what} ({time.time() - now:.0f} s)", flush=True)

    n = size.residents
    conn.execute("BEGIN")
    homes = _places(conn, max(1, int(n / 2.5)))
    conn.executemany(
        "INSERT INTO residents (id, name, household_id, id_card, id_card_masked, elderly_alone,"
        " disability, language, notes, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        _residents(rng, n, homes, t0, load_or_create(path)),
    )
    conn.executemany(
        "INSERT INTO phones (number, resident_id, kind) VALUES (?, ?, ?)",
        ((phone_for(i), i, "mobile") for i in range(1, n + 1)),
    )
    # A household landline shared by the residents of every tenth home.
    conn.execute(
        "INSERT OR IGNORE INTO phones (number, resident_id, kind)"
        " SELECT '010' || printf('%08d', household_id), id, 'home' FROM residents"
        " WHERE household_id % 10 = 0"
    )
    conn.execute("COMMIT")
    step(f"{n} residents")
    conn.execute("DROP TRIGGER cases_fts_insert")
    conn.execute("BEGIN")
    n_cases = int(n * size.cases_per_resident)
    conn.executemany(
        "INSERT INTO cases (id, number, resident_id, category, title, text, status, priority,"
        " owner, department, created_at, updated_at, respond_by, due_at, dispatched_at,"
        " signed_at, closed_at, returns, supervised, reply, resolved, satisfaction)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        _cases(rng, n, n_cases, t0, now),
    )
    conn.execute("COMMIT")
    step(f"{n_cases} cases")
    conn.execute("INSERT INTO case_fts(case_fts) VALUES ('rebuild')")
    conn.execute(fts_trigger)
    step("full-text index")
    n_calls = int(n * size.calls_per_resident)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO interactions (uniqueid, resident_id, case_id, caller, queue, agent,"
        " started_at, wait_s, talk_s, outcome) VALUES (?,?,?,?,?,?,?,?,?,?)",
        _calls(rng, n, n_calls, n_cases, t0, now),
    )
    conn.execute("COMMIT")
    step(f"{n_calls} calls")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"residents": n, "cases": n_cases, "interactions": n_calls}


def _cases(rng: random.Random, n: int, count: int, t0: float, now: float) -> Iterator[tuple]:  # type: ignore[type-arg]
    span = now - t0
    for cid in range(1, count + 1):
        cat, title, text = rng.choice(PROBLEMS)
        dept = DEFAULT_CATEGORIES[cat].department
        created = t0 + span * cid / count
        recent = now - created < 20 * 86400
        status = rng.choice(OPEN) if recent and rng.random() < 0.6 else rng.choice(DONE)
        done = status in DONE
        dispatched = created + 600 if status != "accepted" else None
        signed = created + 3600 if done or status in ("signed", "in_progress", "replied") else None
        closed = created + rng.uniform(1, 12) * 86400 if done else None
        body = text.format(b=f"{rng.randint(1, 40)}号楼", u=f"{rng.randint(1, 6)}单元")
        day = time.strftime("%Y%m%d", time.gmtime(created))
        yield (
            cid, f"{day}{cid:08d}", rng.randint(1, n), cat, title, body, status, "normal",
            "agent", dept, created, closed or created, created + 86400, created + 7 * 86400,
            dispatched, signed, closed, int(rng.random() < 0.05), 0,
            "已处理" if done else None,
            (rng.random() < 0.9) if status in ("followed_up", "rated") else None,
            rng.choice((3, 4, 5, 5, 5)) if status == "rated" else None,
        )  # fmt: skip


def _calls(
    rng: random.Random, n: int, count: int, n_cases: int, t0: float, now: float
) -> Iterator[tuple]:  # type: ignore[type-arg]
    span = now - t0
    for k in range(1, count + 1):
        rid = rng.randint(1, n)
        answered = rng.random() < 0.9
        started = t0 + span * k / count
        yield (
            f"{started:.0f}.{k}", rid, rng.randint(1, n_cases) if rng.random() < 0.5 else None,
            phone_for(rid), rng.choice(("elderly", "repairs", "general", "complaints")),
            f"agent{rng.randint(1, 200)}" if answered else None, started,
            rng.uniform(0, 60), rng.uniform(30, 600) if answered else 0.0,
            "answered" if answered else "abandoned",
        )  # fmt: skip
