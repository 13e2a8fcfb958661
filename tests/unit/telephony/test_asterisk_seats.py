"""What an instance keeps of its seats (instance.json): the values they were rendered
with and the agent secret, from which any seat's password derives — one added at
runtime too (``hotline asterisk password``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from telephony import cli
from telephony.asterisk.instance import AsteriskInstance, AsteriskStartError
from telephony.asterisk.render import AGENTS_FILE, SeatValues, agent_password
from telephony.asterisk.root import AsteriskRoot

VALUES = SeatValues("ulaw", "rfc4733", "transport-udp", "127.0.0.1", 0, None, (("2001", "sip:x"),))


def instance(tmp_path: Path, info: dict[str, object] | None) -> AsteriskInstance:
    inst = AsteriskInstance(AsteriskRoot(tmp_path, chrooted=True), "x")
    inst.dir.mkdir(parents=True)
    if info is not None:
        (inst.dir / "instance.json").write_text(json.dumps(info))
    return inst


def test_the_seats_values_and_any_seats_password_come_from_instance_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inst = instance(tmp_path, {"agent_secret": "s3cret", "seats": VALUES.as_json()})
    assert inst.seats() == (VALUES, "s3cret")
    assert inst.seats_file == inst.dir / "etc" / AGENTS_FILE
    monkeypatch.setattr(cli, "find_root", lambda: inst.root)
    assert cli.main(["password", "--instance", "x", "2001", "2301"]) == 0
    assert capsys.readouterr().out.split("\n")[:2] == [
        f"2001 {agent_password('s3cret', '2001')}",
        f"2301 {agent_password('s3cret', '2301')}",
    ]
    assert cli.main(["password", "--instance", "x", "23o1"]) == 2


def test_an_instance_never_started_or_started_by_an_older_hotline_says_so(
    tmp_path: Path,
) -> None:
    with pytest.raises(AsteriskStartError, match="never been started"):
        instance(tmp_path / "a", None).seats()
    with pytest.raises(AsteriskStartError, match="never been started"):
        instance(tmp_path / "b", None).agent_password("2001")
    with pytest.raises(AsteriskStartError, match="restart it with 'hotline asterisk start'"):
        instance(tmp_path / "c", {"agent_secret": "s"}).seats()
    with pytest.raises(AsteriskStartError, match=r"instance\.json: seat values"):
        instance(tmp_path / "d", {"agent_secret": "s", "seats": {"codecs": "ulaw"}}).seats()
