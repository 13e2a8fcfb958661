"""Asterisk starts from the rendered config, takes an AMI login, and says why when not."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acd.config import load_config
from telephony.asterisk import instance as asterisk_instance
from telephony.asterisk.instance import AsteriskInstance, AsteriskStartError, free_port
from telephony.asterisk.root import AsteriskRoot
from telephony.asterisk.settings import read_settings
from tests.integration.ami_client import AmiClient
from tests.integration.asterisk_fixtures import AsteriskRig

pytestmark = pytest.mark.integration


def test_ami_login_and_core_status(ami: AmiClient) -> None:
    reply = ami.action({"Action": "CoreStatus"})
    assert reply["Response"] == "Success"
    assert ami.banner.startswith("Asterisk Call Manager")


def test_every_seat_and_the_trunk_are_loaded(asterisk: AsteriskRig) -> None:
    out = asterisk.instance.cli("pjsip show endpoints")
    assert "Objects found: 201" in out
    assert "Match: 127.0.0.2/32" in out
    assert "hotline-connect" in asterisk.instance.cli("dialplan show hotline-connect")
    modules = asterisk.instance.cli("module show")
    for module in ("res_agi.so", "app_mixmonitor.so", "res_musiconhold.so", "chan_pjsip.so"):
        assert module in modules


def test_no_error_in_the_log_after_start(asterisk: AsteriskRig) -> None:
    log = asterisk.instance.log_tail(200)
    assert " ERROR[" not in log, log


def test_the_dialplan_class_is_filtered_at_the_source(
    ami: AmiClient, asterisk: AsteriskRig
) -> None:
    out = asterisk.instance.cli(f"manager show user {asterisk.settings.ami_user}")
    read = next(line for line in out.splitlines() if "read perm" in line)
    assert "dialplan" not in read


def test_two_instances_run_side_by_side(
    asterisk: AsteriskRig, start_asterisk: Callable[..., AsteriskRig]
) -> None:
    second = start_asterisk("second")
    assert second.instance.running() and asterisk.instance.running()
    assert second.settings.ami_port != asterisk.settings.ami_port
    client = second.ami_client()
    try:
        assert client.action({"Action": "Ping"})["Response"] == "Success"
    finally:
        client.close()
    second.instance.stop()
    assert not second.instance.running()
    assert asterisk.instance.running(), "stopping one instance must not disturb another"
    assert asterisk.instance.cli("core show uptime")


def test_a_port_in_use_is_refused_naming_the_key(
    asterisk_root: AsteriskRoot, asterisk: AsteriskRig
) -> None:
    cfg = load_config("examples/hotline.toml")
    settings = dataclasses.replace(
        read_settings(cfg), sip_port=free_port(), ami_port=asterisk.settings.ami_port
    )
    inst = AsteriskInstance(asterisk_root, f"pytest-{os.getpid()}-busy")
    with pytest.raises(AsteriskStartError, match=r"asterisk.ami_port: port \d+ .* in use"):
        inst.start(cfg, settings)


def test_a_failed_start_says_why_with_the_log_tail(
    asterisk_root: AsteriskRoot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Asterisk runs but its manager is off: start fails within its timeout, cleanly."""
    original = asterisk_instance.render

    def manager_off(*args: Any, **kwargs: Any) -> dict[str, str]:
        files = original(*args, **kwargs)
        files["manager.conf"] = files["manager.conf"].replace("enabled = yes", "enabled = no")
        return files

    monkeypatch.setattr(asterisk_instance, "render", manager_off)
    cfg = load_config("examples/hotline.toml")
    settings = dataclasses.replace(read_settings(cfg), sip_port=free_port(), ami_port=free_port())
    inst = AsteriskInstance(asterisk_root, f"pytest-{os.getpid()}-nomanager")
    try:
        with pytest.raises(AsteriskStartError, match="did not come up: no AMI login within 4 s"):
            inst.start(cfg, settings, timeout_s=4)
        assert not inst.running(), "a failed start must not leave Asterisk running"
    finally:
        inst.stop()
        shutil.rmtree(inst.dir, ignore_errors=True)


def test_cli_reports_a_bad_config_value_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = Path("examples/hotline.toml").read_text()
    bad.write_text(text.replace("sip_port = 5060", 'sip_port = "fifty"'))
    res = subprocess.run(
        [sys.executable, "-m", "hotline.cli", "asterisk", "start", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1
    assert "asterisk.sip_port: expected a whole number, got 'fifty'" in res.stderr
