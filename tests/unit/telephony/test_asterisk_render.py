"""Asterisk's config rendered from the example TOML: one source of truth."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest

from acd.config import load_config
from acd.numbers import dialplan_check
from ivr import busy
from telephony.asterisk.render import (
    AGENTS_FILE,
    CONF_FILES,
    RING_HOLD_MARGIN_S,
    RenderError,
    SeatValues,
    Secrets,
    agent_password,
    fill,
    ivr_sounds,
    render,
    seats_conf,
    write_files,
)
from telephony.asterisk.settings import AsteriskSettings, read_settings

CFG = load_config("examples/hotline.toml")
SECRETS = Secrets(ami_secret="ami-secret-0123456789", agent_secret="agent-secret-0123456789")


def rendered(settings: AsteriskSettings | None = None) -> dict[str, str]:
    return render(
        CFG,
        settings or read_settings(CFG),
        SECRETS,
        instance="t1",
        base="/run/hotline/t1",
        moddir="/usr/lib/x86_64-linux-gnu/asterisk/modules",
    )


def pjsip_of(files: dict[str, str]) -> str:
    """pjsip.conf with the seats' file it includes."""
    assert f"#include {AGENTS_FILE}" in files["pjsip.conf"]
    return files["pjsip.conf"] + files[AGENTS_FILE]


def sections(text: str, kind: str) -> list[str]:
    """Names of the pjsip.conf sections of ``type = kind``."""
    return re.findall(r"^\[([^\]]+)\]\ntype = " + kind + r"$", text, flags=re.M)


def test_every_file_rendered_with_no_placeholder_left() -> None:
    files = rendered()
    assert set(files) == {*CONF_FILES, AGENTS_FILE}
    for name, text in files.items():
        assert "{{" not in text, name


def test_one_endpoint_auth_and_aor_per_seat_plus_the_trunk() -> None:
    pjsip = pjsip_of(rendered())
    seats = sorted(CFG.agents)
    assert len(seats) == 200
    assert sections(pjsip, "endpoint") == ["residents", *seats]
    assert sections(pjsip, "auth") == seats
    assert sections(pjsip, "aor") == ["residents", *seats]  # the trunk's: callbacks
    assert "match = 127.0.0.2" in pjsip
    assert "bind = 127.0.0.1:5060" in pjsip
    assert pjsip.count("media_address = 127.0.0.1") == 201
    assert pjsip.count("bind_rtp_to_media_address = yes") == 201


def test_agent_passwords_derive_from_the_secret_and_differ() -> None:
    pjsip = pjsip_of(rendered())
    passwords = re.findall(r"^password = (\S+)$", pjsip, flags=re.M)
    assert len(set(passwords)) == 200
    assert agent_password(SECRETS.agent_secret, "2001") in passwords
    assert agent_password("another-secret-xyz", "2001") not in passwords


def test_manager_is_loopback_only_without_the_dialplan_class() -> None:
    manager = rendered()["manager.conf"]
    assert "bindaddr = 127.0.0.1" in manager
    assert "permit = 127.0.0.1/255.255.255.255" in manager
    assert "secret = ami-secret-0123456789" in manager
    read = re.search(r"^read = (.*)$", manager, flags=re.M)
    assert read is not None and "dialplan" not in read[1].split(",")


def test_explicit_modules_cdr_off_and_instance_directories() -> None:
    files = rendered()
    assert "autoload = no" in files["modules.conf"]
    for module in ("res_agi.so", "app_mixmonitor.so", "res_musiconhold.so", "chan_pjsip.so"):
        assert f"load = {module}" in files["modules.conf"]
    assert "enable = no" in files["cdr.conf"]
    assert "astetcdir => /run/hotline/t1/etc" in files["asterisk.conf"]
    assert "astrundir => /run/hotline/t1/run" in files["asterisk.conf"]


def test_highpriority_off_by_default_and_rendered_when_on() -> None:
    """[asterisk] highpriority: Asterisk's real-time scheduling (serve.priority)."""
    assert read_settings(CFG).highpriority is False
    assert re.search(r"^highpriority = no$", rendered()["asterisk.conf"], re.M)
    on = dataclasses.replace(read_settings(CFG), highpriority=True)
    text = rendered(on)["asterisk.conf"]
    options = text.split("\n[options]\n", 1)[1].split("\n[", 1)[0]
    assert re.search(r"^highpriority = yes$", options, re.M)


def test_sip_overload_trigger_is_pjsip_only_by_default() -> None:
    """The manager's event backlog must not make PJSIP ignore new INVITEs (callers
    lost unanswered at the door): serve sheds those politely; Asterisk's own
    default, "global", can still be chosen."""
    assert read_settings(CFG).sip_overload_trigger == "pjsip_only"
    glob = rendered()["pjsip.conf"].split("\n[global]\n", 1)[1].split("\n[", 1)[0]
    assert re.search(r"^taskprocessor_overload_trigger = pjsip_only$", glob, re.M)
    asterisk_default = dataclasses.replace(read_settings(CFG), sip_overload_trigger="global")
    text = rendered(asterisk_default)["pjsip.conf"]
    assert re.search(r"^taskprocessor_overload_trigger = global$", text, re.M)


def test_dialplan_hands_off_holds_bridges_and_surveys() -> None:
    ext = rendered()["extensions.conf"]
    assert "HOTLINE_AGI = agi://127.0.0.1:4573" in ext
    assert "AGI(${HOTLINE_AGI}/inbound," in ext and ",secret=${HOTLINE_AGI_SECRET})" in ext
    assert "Set(HOTLINE_ARRIVED_AT=" in ext
    assert "UserEvent(HotlineWaiting," in ext
    assert "Bridge(${CALLER},F(hotline-survey^s^1))" in ext
    # a: a call's later part (after a blind transfer) is appended, never overwrites
    assert "MixMonitor(${HOTLINE_RECORD_FILE},ab)" in ext
    assert "MixMonitor(${HOTLINE_RECORD_FILE},b)" not in ext
    assert f"Set(HOTLINE_QUEUE={CFG.default_queue})" in ext


def test_without_survey_the_caller_is_hung_up_after_the_bridge() -> None:
    s = dataclasses.replace(read_settings(CFG), survey=False)
    ext = rendered(s)["extensions.conf"]
    # F, not x, for a caller moved out of hotline-ring's bridge: it would go on there
    ring = '${IF($["${IMPORT(${CALLER},HOTLINE_RINGING)}" = "1"]?F(hotline-ring^done^1):x)}'
    assert f"Bridge(${{CALLER}},{ring})" in ext
    assert "exten => done,1,Hangup()" in ext
    off = dataclasses.replace(s, ring_hold=False)
    assert "Bridge(${CALLER},x)" in rendered(off)["extensions.conf"]


def test_a_caller_offered_at_once_waits_in_a_bridge_of_its_own_for_the_ring() -> None:
    ext = rendered(read_settings(CFG))["extensions.conf"]
    assert '$[1 & "${HOTLINE_RINGING}" = "1"]?hotline-ring,s,1' in ext
    off = rendered(dataclasses.replace(read_settings(CFG), ring_hold=False))["extensions.conf"]
    assert '$[0 & "${HOTLINE_RINGING}" = "1"]?hotline-ring,s,1' in off
    longest = max(q.ring_timeout_s for q in CFG.queues.values())
    wait = math.ceil(longest) + RING_HOLD_MARGIN_S
    assert f"BridgeWait(hotline-ring-${{UNIQUEID}},participant,m(${{HOTLINE_MOH}})S({wait}))" in ext


def test_static_contacts_are_rendered_into_the_aor() -> None:
    s = dataclasses.replace(read_settings(CFG), static_contacts={"2001": "sip:2001@127.0.0.1:5091"})
    pjsip = pjsip_of(rendered(s))
    assert pjsip.count("contact = ") == 2  # the seat's and the trunk's (callbacks)
    assert "contact = sip:2001@127.0.0.1:5091" in pjsip


def test_a_placeholder_without_a_value_is_an_error() -> None:
    with pytest.raises(RenderError, match=r"x.conf: no value for placeholder\(s\) \['port'\]"):
        fill("bind = {{host}}:{{port}}", {"host": "127.0.0.1"}, "x.conf")


def test_write_files_keeps_secrets_private(tmp_path: Path) -> None:
    write_files(rendered(), tmp_path)
    assert (tmp_path / "manager.conf").stat().st_mode & 0o077 == 0
    assert (tmp_path / "pjsip.conf").stat().st_mode & 0o077 == 0
    assert (tmp_path / AGENTS_FILE).stat().st_mode & 0o077 == 0  # the seats' passwords
    assert (tmp_path / "extensions.conf").is_file()


def test_the_hold_context_checks_a_callback_number_with_the_cores_rule() -> None:
    dialplan = rendered()["extensions.conf"]
    check = f"same => n,GotoIf({dialplan_check('${CALLERID(num)}')}?accept)"
    assert check in dialplan
    assert dialplan.count("REGEX(") == 1


def test_the_callback_presents_the_hotlines_number() -> None:
    ext = rendered()["extensions.conf"]
    assert 'exten => callback,1,Set(CALLERID(all)="Hotline" <12345>)' in ext
    s = dataclasses.replace(read_settings(CFG), callback_caller_id=None)
    assert "exten => callback,1,NoOp(" in rendered(s)["extensions.conf"]


def test_arrival_is_stamped_after_answer_and_the_hand_off_sends_exits() -> None:
    """Issue 13: Answer() waits up to 500 ms for the caller's audio, so the arrival is
    stamped after it; and an exit decided during the hand-off (queue full, overload)
    is taken by the dialplan from HOTLINE_EXIT, not by a Redirect racing the AGI."""
    ext = rendered()["extensions.conf"]
    inbound = ext[ext.index("[hotline-inbound]") : ext.index("[hotline-hold]")]
    answer, stamp = inbound.index("Answer()"), inbound.index("Set(HOTLINE_ARRIVED_AT=")
    agi = inbound.index("AGI(${HOTLINE_AGI}/")
    assert answer < stamp < agi
    exit_goto = '(routed),GotoIf($["${HOTLINE_EXIT}" != ""]?hotline-exit,${HOTLINE_EXIT},1)'
    assert exit_goto in inbound
    assert "exten => _[a-z0-9].,1,UserEvent(HotlineExit" in ext
    assert "Playback(all-circuits-busy-now)" in ext


def test_overload_refusal_is_one_sentence_in_the_callers_language() -> None:
    """The "overload" exit plays Hotline's own busy message (ivr.busy) from the
    instance's sounds, English for an English call and Mandarin otherwise, and hangs
    up without a UserEvent (Asterisk's event queue is what is behind)."""
    ext = rendered()["extensions.conf"]
    block = ext[ext.index("exten => overload,1,") :].split("\nexten => ", 1)[0]
    names = busy.prompt_names()
    sounds = ivr_sounds("/run/hotline/t1")
    assert f'"${{HOTLINE_LANGUAGE:0:2}}" = "en"]?{sounds}/{names["english"]}:' in block
    assert f":{sounds}/{names['mandarin']})}})" in block
    assert "Hangup()" in block and "UserEvent" not in block
    assert names["english"] != names["mandarin"]


def test_the_seats_file_is_rendered_again_from_the_kept_values_alone() -> None:
    """serve re-renders the seats from instance.json's values: the same text as the
    start's for the same roster, and one more block for one more seat."""
    s = dataclasses.replace(read_settings(CFG), static_contacts={"2001": "sip:2001@127.0.0.1:5091"})
    kept = SeatValues.from_json(json.loads(json.dumps(SeatValues.of(s).as_json())))
    roster = {a.id: a.name for a in CFG.agents.values()}
    at_start = rendered(s)[AGENTS_FILE]
    assert seats_conf(roster, kept, SECRETS.agent_secret) == at_start
    more = seats_conf({**roster, "2999": "新坐席"}, kept, SECRETS.agent_secret)
    assert sections(more, "endpoint") == [*sections(at_start, "endpoint"), "2999"]
    assert "\n[2999]\ntype = auth" in more and "\n[2999]\ntype = aor" in more
    assert f"password = {agent_password(SECRETS.agent_secret, '2999')}" in more


def test_kept_seat_values_that_are_incomplete_are_an_error() -> None:
    with pytest.raises(RenderError, match="codecs"):
        SeatValues.from_json({"dtmf_mode": "rfc4733"})


def test_the_door_counts_callers_in_and_refuses_before_answer() -> None:
    """telephony.door: every caller joins GROUP inbound first; past HOTLINE_DOOR_MAX
    (0, open, until serve sets it) the extension door plays the busy message in the
    centre's language as early media (never answered) then hangs up with cause 34
    (SIP 503), or, past HOTLINE_DOOR_SPOKEN, hangs up with cause 34 at once."""
    ext = rendered()["extensions.conf"]
    assert "HOTLINE_DOOR_MAX = 0" in ext and "HOTLINE_DOOR_SPOKEN = 0" in ext
    inbound = ext[ext.index("[hotline-inbound]") : ext.index("[hotline-hold]")]
    group, check = inbound.index("Set(GROUP(hotline)=inbound)"), inbound.index("?door,1)")
    assert group < check < inbound.index(" same => n,Answer()")
    door = inbound[inbound.index("exten => door,1,") :]
    assert "Answer()" not in door
    spoken = f"Playback({ivr_sounds('/run/hotline/t1')}/{busy.prompt_names()['mandarin']},noanswer)"
    assert door.index("Set(GROUP(hotline)=refusing)") < door.index("Progress()")
    assert door.index("Progress()") < door.index(spoken) < door.index("Hangup(34)")
    assert "UserEvent(HotlineDoor," in door and "Spoken: no)" in door
    assert door.count("Hangup(34)") == 2 and door.index("(busy),") < door.rindex("Hangup(34)")
    # each refusal is written to the door's journal (telephony.door_journal) before its
    # event: serve records from it the callers refused while it was away
    journal = "Set(FILE(/run/hotline/t1/spool/hotline-door/refused.log,,,al,u)=${HOTLINE_DOOR_LINE}"
    events = [i for i in range(len(door)) if door.startswith("UserEvent(HotlineDoor,", i)]
    writes = [i for i in range(len(door)) if door.startswith(journal, i)]
    assert len(events) == len(writes) == 2 and all(
        w < e for w, e in zip(writes, events, strict=True)
    )
    assert "${FILTER(0-9A-Za-z+*#.,${CALLERID(num)})}" in door
    assert "load = func_env.so" in rendered()["modules.conf"]


def test_a_failed_hand_off_leaves_a_journal_line_unless_serve_adopts_the_caller() -> None:
    """telephony.door_journal: a caller whose hand-off failed (serve away) gets the
    hangup handler hotline-away, which writes "<at> <call> <caller> away <arrived>
    <queue>" unless serve set HOTLINE_ADOPTED=1 when it adopted the caller."""
    ext = rendered()["extensions.conf"]
    inbound = ext[ext.index("[hotline-inbound]") : ext.index("[hotline-away]")]
    failed = inbound.index("UserEvent(HotlineAgiFailed,")
    push = inbound.index("Set(CHANNEL(hangup_handler_push)=hotline-away,s,1)")
    assert failed < push < inbound.index("(routed),")
    away = ext[ext.index("[hotline-away]") : ext.index("[hotline-hold]")]
    assert '$["${HOTLINE_ADOPTED}" = "1"]?done' in away
    assert (
        "refused.log,,,al,u)=${STRFTIME(,,%s.%3q)} ${HOTLINE_CALL_ID} "
        "${FILTER(0-9A-Za-z+*#.,${CALLERID(num)})} away ${HOTLINE_ARRIVED_AT} ${HOTLINE_QUEUE})"
    ) in away
    assert away.rstrip().endswith("same => n(done),Return()")
