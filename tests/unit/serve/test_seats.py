"""The PJSIP seats follow the roster (serve.seats): the seats' file re-rendered from
the roster with the instance's values, res_pjsip reloaded by AMI; a file that cannot
be written or a refused reload leaves the file as it was and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from serve.seats import RELOAD, PjsipSeats, SeatsError, Unmanaged, endpoints, local_seats
from serve.settings import ServeSettings
from telephony.ami_client import AmiActionError, AmiTimeoutError
from telephony.ami_frames import AmiMessage
from telephony.asterisk.render import SeatValues, agent_password, seats_conf

VALUES = SeatValues("ulaw,alaw", "rfc4733", "transport-udp", "127.0.0.1", 0,
                    static_contact="sip:{id}@127.0.0.1:5091")  # fmt: skip
SECRET = "agent-secret-0123456789"
ROSTER = {"2001": "Ann", "2002": "Bob"}


class Ami:
    """Answers ``Reload`` with the next of ``answers`` (an exception is raised)."""

    def __init__(self, *answers: Exception | None) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, list[tuple[str, str]]]] = []

    async def action(
        self, action: str, fields: list[tuple[str, str]] | None = None, **kw: Any
    ) -> list[AmiMessage]:
        self.sent.append((action, fields or []))
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        return [AmiMessage({"Response": "Success", "Message": "Module Reloaded"})]


def refused(message: str) -> AmiActionError:
    return AmiActionError("Reload", AmiMessage({"Response": "Error", "Message": message}))


def seats(tmp_path: Path, ami: Ami) -> PjsipSeats:
    path = tmp_path / "pjsip_agents.conf"
    path.write_text(seats_conf(ROSTER, VALUES, SECRET), encoding="utf-8")
    return PjsipSeats("t1", path, VALUES, SECRET, ami)


async def test_an_added_seat_is_rendered_and_res_pjsip_reloaded(tmp_path: Path) -> None:
    ami = Ami()
    s = seats(tmp_path, ami)
    answer = await s.sync({**ROSTER, "2301": "新坐席"})
    assert answer == {"instance": "t1", "file": str(s.path), "added": ["2301"],
                      "removed": [], "reloaded": True}  # fmt: skip
    assert ami.sent == [("Reload", RELOAD)] and RELOAD == [("Module", "res_pjsip.so")]
    text = s.path.read_text(encoding="utf-8")
    assert endpoints(text) == ["2001", "2002", "2301"]
    block = text.split("[2301]\ntype = endpoint")[1]
    assert 'callerid = "新坐席" <2301>' in block
    assert f"password = {agent_password(SECRET, '2301')}" in block
    assert "contact = sip:2301@127.0.0.1:5091" in block  # the instance's pattern
    assert s.path.stat().st_mode & 0o777 == 0o600  # passwords
    assert s.password("2301") == agent_password(SECRET, "2301")


async def test_a_removed_seat_goes_and_an_unchanged_roster_reloads_nothing(
    tmp_path: Path,
) -> None:
    ami = Ami()
    s = seats(tmp_path, ami)
    answer = await s.sync({"2002": "Bob"})
    assert (answer["added"], answer["removed"], answer["reloaded"]) == ([], ["2001"], True)
    assert endpoints(s.path.read_text()) == ["2002"]
    assert "[2001]" not in s.path.read_text()
    again = await s.sync({"2002": "Bob"})
    assert (again["added"], again["removed"], again["reloaded"]) == ([], [], False)
    assert len(ami.sent) == 1


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (refused("Permission denied"), "Asterisk keeps the seats it had"),
        (AmiTimeoutError("Reload", 5.0), "may have loaded the new seats"),
        (ConnectionError("AMI Reload: not connected"), "Asterisk keeps the seats it had"),
    ],
)
async def test_a_reload_not_done_puts_the_file_back(
    tmp_path: Path, answer: Exception, says: str
) -> None:
    s = seats(tmp_path, Ami(answer))
    before = s.path.read_text()
    with pytest.raises(SeatsError, match=says) as e:
        await s.sync({**ROSTER, "2301": "x"})
    assert "put back as it was" in str(e.value)
    assert s.path.read_text() == before


async def test_a_reload_in_progress_is_tried_again(tmp_path: Path) -> None:
    ami = Ami(refused("A reload is in progress"), refused("A reload is in progress"))
    s = seats(tmp_path, ami)
    assert (await s.sync({**ROSTER, "2301": "x"}))["reloaded"] is True
    assert len(ami.sent) == 3


async def test_a_file_that_cannot_be_written_leaves_asterisk_untouched(tmp_path: Path) -> None:
    ami = Ami()
    s = seats(tmp_path, ami)
    s.path = tmp_path / "gone" / "pjsip_agents.conf"
    with pytest.raises(SeatsError, match=r"cannot read .*Asterisk untouched"):
        await s.sync(ROSTER)
    s.path = tmp_path / "pjsip_agents.conf"
    (tmp_path / ".pjsip_agents.conf.tmp").mkdir()  # the temporary file cannot be made
    before = s.path.read_text()
    with pytest.raises(SeatsError, match=r"cannot write .*Asterisk untouched"):
        await s.sync({**ROSTER, "2301": "x"})
    assert ami.sent == [] and s.path.read_text() == before


async def test_without_a_local_instance_the_answer_says_not_managed() -> None:
    s = local_seats(ServeSettings(ami_host="10.0.0.9", ami_port=5038), Ami())
    assert isinstance(s, Unmanaged) and s.password("2301") is None
    answer = await s.sync(ROSTER)
    assert isinstance(answer, str) and answer.startswith("not managed: ")
    assert "10.0.0.9:5038" in answer and "--instance" in answer
