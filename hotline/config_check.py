"""``hotline config check FILE``: validate a config file and summarise what it defines."""

from __future__ import annotations

import argparse
import sys

from acd.alarm_config import read_alarms
from acd.calendar import WEEKDAYS, Schedule, format_span
from acd.calendar_config import national_until, read_calendar
from acd.config import ConfigError, load_config
from acd.followup import read_followup
from ivr.config import read_ivr
from serve.followup import check_with_crm
from serve.mqtt_settings import read_mqtt
from serve.settings import read_settings as read_serve_settings
from telephony.asterisk.network import describe
from telephony.asterisk.settings import read_settings
from telephony.transfer_config import read_transfer

# Every section's reader, in the order ``check`` runs them: each raises ConfigError only.
READERS = (
    read_settings,
    read_serve_settings,
    read_ivr,
    read_alarms,
    read_mqtt,
    read_calendar,
    read_followup,
    read_transfer,
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hotline config")
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate a config file")
    check.add_argument("file")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.file)
        asterisk = read_settings(cfg)
        serve = read_serve_settings(cfg)
        ivr = read_ivr(cfg)
        alarms = read_alarms(cfg)
        mqtt = read_mqtt(cfg)
        calendar = read_calendar(cfg)
        national = cfg.section("calendar").raw("national") is True
        followup = read_followup(cfg)
        check_with_crm(followup, serve.crm)
        transfer = read_transfer(cfg)
    except ConfigError as e:
        print(f"hotline config: {e}", file=sys.stderr)
        return 1
    print(f"{cfg.source}: ok — {cfg.name}")
    print(f"  {len(cfg.queues)} queues, {len(cfg.agents)} agents, priorities {cfg.priorities}")
    print(
        f"  asterisk: {describe(asterisk.network, asterisk.sip_port, asterisk.trunk_address)}, "
        f"AMI 127.0.0.1:{asterisk.ami_port}, AGI {asterisk.agi_host}:{asterisk.agi_port}"
    )
    extra = f", CRM {serve.crm_database}" if serve.crm is not None else ""
    if serve.web_port is not None:
        extra += f", web {serve.web_host}:{serve.web_port}"
    print(f"  serve: state in {serve.state_dir}, hold context {serve.shell.hold_context}{extra}")
    if ivr is not None:
        state = "on" if ivr.enabled else "off (enabled = false)"
        menus = ", ".join(f"{m.name} ({''.join(sorted(m.options))})" for m in ivr.menus.values())
        print(f"  ivr: {state}; menus {menus}; default queue {ivr.default_queue}")
    if mqtt is not None:
        print(
            f"  mqtt: {mqtt.host}:{mqtt.port} as {mqtt.identifier}, "
            f"topics {mqtt.topic_prefix}/{mqtt.centre}/..., qos {mqtt.qos}, buffer {mqtt.buffer}"
        )
    if followup is not None:
        print(
            f"  followup: queue {followup.queue}, {followup.max_attempts} attempts"
            f" {followup.retry_after_s:g} s apart, {followup.calls_per_minute:g} calls a minute"
        )
    limits = ", ".join(f"{s.value} > {v:g} s" for s, v in alarms.agent_state_over_s.items())
    print(
        f"  alarms: SL{alarms.service_level_s:g} over {alarms.window_s:g} s, "
        f"{len(alarms.queues)} queue overrides; agent states: {limits or 'off'}"
    )
    print(
        f"  calendar: {calendar.tz}, {len(calendar.holidays)} holidays,"
        f"{' national to ' + str(national_until()) + ',' if national else ''}"
        f" {len(calendar.makeup_days)} make-up days; hours: {_week(calendar.hours)}"
    )
    for name, s in calendar.queues.items():
        print(f"    {name}: {'always open' if s.always_open else _week(s)}")
    if transfer.departments:
        names = ", ".join(f"{n} {num}" for n, num in transfer.departments.items())
        print(f"  transfer: to an agent waits {transfer.agent_wait_s:g} s; departments {names}")
    for q in cfg.queues.values():
        skills = ", ".join(f"{s}>={lvl}" for s, lvl in q.skills)
        print(f"  {q.name:<12} {q.title}  [{skills}] {q.strategy}, {len(q.escalation)} steps")
    return 0


def _week(s: Schedule | None) -> str:
    if s is None:
        return "always open"
    days = [
        f"{d} {'+'.join(map(format_span, s.days[d])) or 'closed'}" for d in WEEKDAYS if d in s.days
    ]
    return "; ".join(days) or "closed"
