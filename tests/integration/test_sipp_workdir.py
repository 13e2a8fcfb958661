"""SIPp's work folders (``hotline-sipp-*`` in the temporary directory) are removed
when the run ends: 178 of them were found left behind. Real SIPp, no Asterisk."""

from __future__ import annotations

import socket

import pytest

from telephony.asterisk.instance import free_port
from telephony.rig.sipp import Sipp, SippError, agent_rows

pytestmark = pytest.mark.integration


def _seat(port: int) -> Sipp:
    return Sipp("agent", local_port=port, calls=1, rows=agent_rows([(300, 500)]), max_time_s=5)


def test_work_folder_removed_when_the_run_ends() -> None:
    uas = _seat(free_port())
    with uas:
        assert uas.workdir.is_dir() and uas.workdir.name.startswith("hotline-sipp-")
        assert uas.proc is not None and uas.proc.poll() is None
        result = uas.stop()  # nobody called: stopped by hand, the results still read
        assert result.failed == 0
    assert not uas.workdir.exists()
    assert uas.events() == result.events and uas.result(0) == result  # kept in memory


def test_work_folder_removed_when_sipp_cannot_start() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", port))
        sipp = _seat(port)
        with pytest.raises(SippError, match="Unable to bind"):
            sipp.start()
    assert not sipp.workdir.exists()


def test_work_folder_removed_by_close_without_a_with_block() -> None:
    uas = _seat(free_port()).start()
    assert uas.proc is not None and uas.proc.poll() is None
    uas.close()
    assert uas.proc.poll() is not None and not uas.workdir.exists()


def test_a_taken_media_port_is_replaced_by_another() -> None:
    """SIPp binds its media (RTP) port at start; one another process holds (seen in a
    full run with two workers) costs a retry on another port, not the test."""
    sipp = _seat(free_port())
    media = int(sipp.args[sipp.args.index("-mp") + 1])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", media))
        with sipp:
            assert sipp.proc is not None and sipp.proc.poll() is None
            assert sipp.args[sipp.args.index("-mp") + 1] != str(media)
