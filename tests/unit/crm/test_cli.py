from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crm.cli import main
from hotline.cli import main as hotline


def test_init_user_generate_deliver_supervise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "crm.db")
    assert hotline(["crm", "init", "--db", db]) == 0
    assert "schema version 6 (applied [1, 2, 3, 4, 5, 6])" in capsys.readouterr().out
    monkeypatch.setenv("HOTLINE_PASSWORD", "long enough")
    assert main(["user", "add", "root", "--role", "admin", "--db", db]) == 0
    assert main(["user", "add", "root", "--role", "admin", "--db", db]) == 1
    assert "user 'root' exists" in capsys.readouterr().err
    assert main(["user", "add", "h", "--role", "department", "--db", db]) == 1
    assert "department: is required" in capsys.readouterr().err
    assert main(["user", "add", "ann", "--role", "agent", "--agent-id", "2002", "--db", db]) == 0
    assert "added ann (agent, agent 2002)" in capsys.readouterr().out
    assert main(["user", "agent", "root", "2002", "--db", db]) == 1
    assert "agent '2002' is another user's" in capsys.readouterr().err
    assert main(["user", "agent", "ann", "--db", db]) == 0
    assert main(["user", "agent", "root", "2002", "--db", db]) == 0
    assert "root: agent 2002" in capsys.readouterr().out.splitlines()[-1]
    demo = str(tmp_path / "demo.db")
    assert main(["generate", "--db", demo, "--residents", "300"]) == 0
    conn = sqlite3.connect(demo)
    assert conn.execute("SELECT count(*) FROM cases").fetchone() == (900,)
    assert conn.execute("SELECT count(*) FROM case_fts WHERE case_fts MATCH '漏水严重'").fetchone()[
        0
    ]
    conn.close()
    assert main(["supervise", "--db", demo]) == 0
    assert "overdue case(s) put under supervision" in capsys.readouterr().out
    assert main(["deliver", "--db", db]) == 0
    assert "delivered 0, 0 still queued" in capsys.readouterr().out


def test_a_bad_config_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--db", str(tmp_path / "x.db"), "--config", "/nonexistent.toml"]) == 2
    assert "cannot read config file" in capsys.readouterr().err
