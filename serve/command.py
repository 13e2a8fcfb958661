"""``hotline serve``'s command line: its options, the config checked whole before
anything starts (a bad section stops it with the key named, exit 2), and a local
Asterisk instance's ports, secret, sounds and spool (``--instance``), then
:func:`serve.main.serve` until SIGTERM / SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from acd.alarm_config import read_alarms
from acd.calendar_config import read_calendar
from acd.config import ConfigError, load_config
from acd.followup import read_followup
from ivr.announce import read_announce
from ivr.config import read_ivr
from ivr.survey import read_survey
from serve import event_loop
from serve.followup import check_with_crm
from serve.main import __doc__ as serve_doc
from serve.main import serve
from serve.mqtt_settings import read_mqtt
from serve.priority import apply as apply_priority
from serve.recordings import read_recordings
from serve.settings import ServeSettings, read_settings
from telephony.asterisk.instance import AsteriskInstance, AsteriskStartError
from telephony.asterisk.root import find_root
from telephony.door_journal import JOURNAL
from telephony.transfer_config import read_transfer

__all__ = ["main"]


def _from_instance(settings: ServeSettings, name: str) -> ServeSettings:
    root = find_root()
    if root is None:
        raise AsteriskStartError("no Asterisk provisioned: run 'hotline asterisk provision'")
    inst = AsteriskInstance(root, name)
    ami = inst.ami()
    return settings.override(
        ami_host=ami.host,
        ami_port=ami.port,
        ami_username=ami.user,
        ami_secret=ami.secret,
        agi_port=int(inst.info().get("agi_port", settings.agi_port)),
        sounds_dir=inst.dir / "sounds" / "ivr",
        door_journal=inst.dir / JOURNAL,
        asterisk_instance=name,
    )


def _instance_spool(name: str) -> Path | None:
    """The instance's spool folder as this host sees it (recordings, voicemails)."""
    root = find_root()
    return AsteriskInstance(root, name).dir / "spool" if root is not None else None


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="hotline serve", description=serve_doc)
    p.add_argument("--config", default="examples/hotline.toml", type=Path)
    p.add_argument(
        "--instance",
        help="take AMI port, user, secret and the AGI port from this running instance"
        " (default: 'default' when [asterisk] sets no ami_secret)",
    )
    p.add_argument("--ami-host")
    p.add_argument("--ami-port", type=int)
    p.add_argument("--ami-username")
    p.add_argument("--ami-secret")
    p.add_argument("--agi-port", type=int)
    p.add_argument("--state-dir", type=Path)
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--record-ami", type=Path, help="append the raw AMI stream to this file")
    a = p.parse_args(argv)
    logging.basicConfig(
        level=a.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        cfg = load_config(a.config)
        settings = read_settings(cfg)
        read_ivr(cfg)  # a bad [ivr] stops serve here, with the key named
        read_announce(cfg)
        check_with_crm(read_followup(cfg), settings.crm)
        read_transfer(cfg)
        read_mqtt(cfg)  # ... and so does a bad [mqtt] or [alarms]
        read_alarms(cfg)
        read_calendar(cfg)  # ... and a bad [calendar]
        read_survey(cfg)
        instance = a.instance
        if (
            instance is None
            and a.ami_secret is None
            and cfg.section("asterisk").raw("ami_secret") is None
        ):
            instance = "default"  # the secret was generated for `hotline asterisk start`
        spool = None
        if instance:
            settings = _from_instance(settings, instance)
            spool = _instance_spool(instance)
        read_recordings(cfg, spool)  # a bad [recordings] stops serve here too
        settings = settings.override(
            ami_host=a.ami_host,
            ami_port=a.ami_port,
            ami_username=a.ami_username,
            ami_secret=a.ami_secret,
            agi_port=a.agi_port,
            state_dir=a.state_dir,
        )
    except (ConfigError, AsteriskStartError) as e:
        print(f"hotline serve: {e}", file=sys.stderr)
        return 2

    apply_priority(settings.realtime_priority)  # before any thread: they inherit it

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await serve(a.config, settings, stop, a.record_ami, spool)

    return event_loop.run(run(), settings.event_loop)
