"""The dialplan runs the IVR's AGI script when [ivr] is enabled, else the direct hand-off."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from acd.config import parse_config
from telephony import cli as asterisk_cli
from telephony.asterisk.render import Secrets, render
from telephony.asterisk.settings import read_settings

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"
SECRETS = Secrets(ami_secret="ami-secret-0123456789", agent_secret="agent-secret-0123456789")


def dialplan(ivr: bool | None) -> str:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    if ivr is None:
        del data["ivr"]
    else:
        data["ivr"]["enabled"] = ivr
    cfg = parse_config(copy.deepcopy(data))
    files = render(
        cfg, read_settings(cfg), SECRETS, instance="t1", base="/run/hotline/t1", moddir="/m"
    )
    return files["extensions.conf"]


def test_enabled_ivr_runs_the_ivr_script_with_its_sounds() -> None:
    ext = dialplan(True)
    assert "AGI(${HOTLINE_AGI}/ivr," in ext and "/inbound," not in ext
    assert "Set(HOTLINE_IVR_SOUNDS=/run/hotline/t1/sounds/ivr)" in ext


def test_disabled_or_absent_ivr_hands_off_directly() -> None:
    for ivr in (False, None):
        ext = dialplan(ivr)
        assert "AGI(${HOTLINE_AGI}/inbound," in ext and "AGI(${HOTLINE_AGI}/ivr," not in ext


def test_render_without_espeak_fails_naming_the_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ivr-on.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    config.write_text(text.replace("\nenabled = false", "\nenabled = true", 1), encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng, no sox
    assert asterisk_cli.main(["render", "--config", str(config), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "IVR prompt 'case_agent' (mandarin): espeak-ng is not installed" in err, err
