"""What a live-load step keeps to follow a lost call: the kernel's dropped SIP datagrams
per socket (from a fake /proc/net/udp), the step's folder only when asked for and only
while something was lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.live_logs import KEEP_ENV, drop_if_clean, keep_dir, udp_drops

TABLE = """\
   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 4323: 0100007F:1F90 00000000:0000 07 00000000:00034000 00:00000000 00000000     0        0 774576 2 00000000756b0fae 12
 4324: 0200007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 774577 2 00000000756b0faf 3
12631: 0100007F:13C4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 60605 2 0000000058a0506a 40
 garbage
"""  # noqa: E501


def test_drops_are_summed_per_named_port_less_the_earlier_counts(tmp_path: Path) -> None:
    table = tmp_path / "udp"
    table.write_text(TABLE)
    ports = {"seats": 8080, "asterisk": 5060, "nobody": 9}
    assert udp_drops(ports, table=str(table)) == {"seats": 15, "asterisk": 40, "nobody": 0}
    since = {"asterisk": 38}
    assert udp_drops(ports, since, table=str(table)) == {"seats": 15, "asterisk": 2, "nobody": 0}
    assert udp_drops(ports, table=str(tmp_path / "absent")) == dict.fromkeys(ports, 0)


def test_a_step_keeps_its_folder_only_when_asked_and_something_was_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEEP_ENV, raising=False)
    assert keep_dir(tmp_path, "hotline", 100) is None
    monkeypatch.setenv(KEEP_ENV, "1")
    kept = keep_dir(tmp_path, "hotline", 100)
    assert kept == tmp_path / "step-hotline-100" and kept.is_dir()
    assert drop_if_clean(kept, lost=2) == kept and kept.is_dir()
    assert drop_if_clean(kept, lost=0) is None and not kept.exists()
