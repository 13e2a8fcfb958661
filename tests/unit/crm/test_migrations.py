from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crm.migrate import (
    LATEST,
    SchemaVersionError,
    check_sqlite,
    migrate,
    migrate_file,
    schema_version,
)

V1_ROWS = """
INSERT INTO residents (id, name, created_at, updated_at) VALUES (1, '王五', 0, 0);
INSERT INTO cases (id, number, resident_id, category, title, text, status, owner, department,
                   created_at, updated_at, due_at)
VALUES (1, '2026010100000001', 1, 'repair', '电梯故障', 'The lift on floor 5 is broken',
        'accepted', 'ann', 'housing', 0, 0, 0);
"""


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_from_empty(tmp_path: Path) -> None:
    assert migrate_file(str(tmp_path / "a.db")) == list(range(1, LATEST + 1))
    conn = sqlite3.connect(tmp_path / "a.db")
    assert schema_version(conn) == LATEST == 6
    assert {"residents", "cases", "case_fts", "outbox", "audit_log"} <= tables(conn)
    assert migrate(conn) == []  # idempotent at start


def test_from_the_previous_version_keeps_and_indexes_the_data(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "b.db")
    assert migrate(conn, target=1) == [1]
    conn.executescript(V1_ROWS)
    assert "case_fts" not in tables(conn)
    assert migrate(conn, target=2) == [2]
    assert schema_version(conn) == 2
    hits = conn.execute("SELECT rowid FROM case_fts WHERE case_fts MATCH '\"电梯故\"'").fetchall()
    assert hits == [(1,)]
    hits = conn.execute("SELECT rowid FROM case_fts WHERE case_fts MATCH '\"broken\"'").fetchall()
    assert hits == [(1,)]


def test_from_version_2_users_keep_their_sessions_and_are_no_agent(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "u.db")
    assert migrate(conn, target=2) == [1, 2]
    conn.executescript(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES ('ann', 'agent', 'x', 0);"
        "INSERT INTO users (name, role, password_hash, created_at) VALUES ('bob', 'agent', 'x', 0);"
        "INSERT INTO sessions (token_hash, user, expires_at) VALUES ('h', 'ann', 9);"
    )
    assert migrate(conn, target=3) == [3]
    assert schema_version(conn) == 3
    rows = conn.execute("SELECT name, agent_id FROM users ORDER BY name").fetchall()
    assert rows == [("ann", None), ("bob", None)]
    assert conn.execute("SELECT user FROM sessions").fetchall() == [("ann",)]
    conn.execute("UPDATE users SET agent_id = '2001' WHERE name = 'ann'")
    with pytest.raises(sqlite3.IntegrityError, match=r"users\.agent_id"):
        conn.execute("UPDATE users SET agent_id = '2001' WHERE name = 'bob'")


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "c.db")
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(SchemaVersionError, match="newer than this code"):
        migrate(conn)


def test_a_failing_migration_leaves_the_old_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "d.db")
    migrate(conn, target=1)
    conn.execute("CREATE TABLE outbox (x)")  # makes migration 2 fail half-way
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn)
    assert not conn.in_transaction
    assert schema_version(conn) == 1
    assert "case_fts" not in tables(conn)


def test_an_old_sqlite_is_named() -> None:
    check_sqlite()  # the one in this venv (3.40 on Debian 12's Python) has trigram
    with pytest.raises(SchemaVersionError, match=r"SQLite is 3\.31\.1; .* needs 3\.34"):
        check_sqlite((3, 31, 1))


def test_open_case_queries_use_the_partial_indexes(tmp_path: Path) -> None:
    """SQLite uses a partial index only if the query's terms match it as written."""
    from crm.cases import OPEN_SQL
    from crm.lifecycle import OPEN_STATES

    assert set(OPEN_SQL.strip("()").replace("'", "").split(", ")) == {s.value for s in OPEN_STATES}
    conn = sqlite3.connect(tmp_path / "p.db")
    migrate(conn)
    plans = {
        "cases_resident_open": f"SELECT * FROM cases WHERE resident_id IN (1, 2)"
        f" AND status IN {OPEN_SQL} ORDER BY created_at DESC LIMIT 20",
        "cases_due_open": f"SELECT id FROM cases WHERE status IN {OPEN_SQL} AND due_at < 5",
        "cases_resident_open ": "SELECT u.agent_id FROM cases c JOIN users u ON u.name = c.owner"
        " WHERE c.resident_id IN (SELECT resident_id FROM phones WHERE number = '1')"
        f" AND c.status IN {OPEN_SQL} AND u.agent_id IS NOT NULL AND u.disabled = 0"
        " ORDER BY c.updated_at DESC, c.id DESC LIMIT 20",
    }
    for index, sql in plans.items():
        plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert f"USING INDEX {index.strip()}" in plan, plan


def test_from_version_3_interactions_gain_a_disposition(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "d.db")
    assert migrate(conn, target=3) == [1, 2, 3]
    conn.execute(
        "INSERT INTO interactions (uniqueid, caller, queue, started_at, wait_s, talk_s, outcome)"
        " VALUES ('1.1', '13800138000', 'general', 0, 1, 2, 'answered')"
    )
    assert migrate(conn, target=4) == [4]
    assert conn.execute("SELECT uniqueid, disposition FROM interactions").fetchall() == [
        ("1.1", None)
    ]
    assert "call_marks" in tables(conn)
