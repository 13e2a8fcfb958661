"""The live-load rig: one Asterisk per system, 200 SIPp-answered seats, SIPp callers.

Two systems started side by side, loaded one after the other at each rate:

- **hotline**: Hotline's own rendered configuration (one queue ``load``, 200 seats,
  wrap-up, survey and recording off) and ``hotline serve``, all agents logged in;
- **app_queue**: the same rendered PJSIP seats and trunk, but the trunk's context
  runs ``Answer()`` then ``Queue(load)`` with ``queues.conf``'s 200 static members,
  ``strategy = leastrecent`` (the yardstick of ``/work/shared/ASTERISK.md``).

Each seat's AOR has a static contact at one SIPp UAS (``live/load_agent.xml``)
that logs the caller's number of every INVITE; callers (``live/load_caller.xml``)
have unique numbers per step, so each agent INVITE is matched to its call. The
queue entry is the caller's 200 OK: the caller sends one RTP packet after its ACK,
so ``Answer()`` does not wait 500 ms for audio. Everything listens on 127.0.0.1.
With ``HOTLINE_LIVELOAD_KEEP=1`` a step keeps its logs (:mod:`benchmarks.live_logs`)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from acd.config import AcdConfig, load_config
from benchmarks import live_logs, live_trace
from serve.control import request
from telephony.asterisk.instance import AsteriskInstance, AsteriskStartError, free_ports
from telephony.asterisk.render import Secrets
from telephony.asterisk.root import provision
from telephony.asterisk.settings import AsteriskSettings, read_settings
from telephony.handoff_trace import ENV_VARIABLE as TRACE_VARIABLE
from telephony.rig.sipp import Sipp, SippError, SippEvent

__all__ = ["SEATS", "LoadRig", "StepRaw", "System", "open_rig"]

HERE = Path(__file__).parent / "live"
ROOT = Path(__file__).parents[1]
SEATS = tuple(str(i) for i in range(2001, 2201))
QUEUE = "load"
RING_MS = 100  # the seats ring this long before they answer
SIPP_ARGS = ("-default_behaviors", "all,-abortunexp", "-aa")
ASTERISK_PREFIX = "asterisk:"  # a variant of [asterisk] keys, for app_queue's too

CONFIG = """\
[centre]
name = "live load"
ring_timeout_s = 15
wrapup_s = 0
autopause = false
languages = ["mandarin"]

[queues.{queue}]
title = "Load"
skills = {{ load = 1 }}
record_calls = false

[[agents]]
ids = "2001-2200"
name = "seat {{id}}"
skills = {{ load = 1, mandarin = 10 }}

[asterisk]
{asterisk}sip_port = {sip}
ami_port = {ami}
agi_port = {agi}
survey = false
static_contact = "sip:{{id}}@127.0.0.1:{uas}"

[serve]
state_dir = "{state}"
"""

QUEUES_CONF = """\
; benchmarks/live_load.py: Asterisk's own app_queue, the yardstick
[general]
persistentmembers = no
autofill = yes
shared_lastcall = no

[{queue}]
strategy = leastrecent
timeout = 15
retry = 1
wrapuptime = 0
ringinuse = no
joinempty = yes
leavewhenempty = no
announce-frequency = 0
periodic-announce-frequency = 0
{members}
"""

APP_QUEUE_DIALPLAN = """\
; benchmarks/live_load.py: the trunk's calls straight into app_queue
[general]
static = yes
writeprotect = yes

[hotline-inbound]
exten => _X.,1,Answer()
{stamp}
 same => n,Queue({queue},,,,600)
 same => n,Hangup()
exten => s,1,Goto(hotline-inbound,100,1)
"""


# --breakdown (benchmarks.live_breakdown): Asterisk's verbose messages into their own
# log, and the PJSIP logger on for INVITEs only (one each way per call)
LOGGER_LINE = "breakdown.log => verbose\n"
INVITE_LOGGER = "pjsip set logger method INVITE"

# The queue entry, stamped by Asterisk right after Answer() in both dialplans (a
# NOTICE in the instance's messages.log, read back after each step).
STAMP = " same => n,Log(NOTICE,qentry ${CALLERID(num)} ${STRFTIME(,,%s.%6q)})"


class RigInstance(AsteriskInstance):
    breakdown = False  # log the INVITEs sent (benchmarks.live_breakdown)


class HotlineInstance(RigInstance):
    """Hotline's rendered Asterisk, with the queue-entry stamp after Answer()."""

    def prepare(self, cfg: AcdConfig, settings: AsteriskSettings) -> Secrets:
        sec = super().prepare(cfg, settings)
        path = self.dir / "etc" / "extensions.conf"
        text = path.read_text()
        answer = " same => n,Answer()\n"
        arrive = text.find("exten => arrive,1,")
        at = text.find(answer, arrive) if arrive >= 0 else -1
        if at < 0:  # the caller's Answer() in hotline-inbound's arrive (not the door's)
            raise RuntimeError("extensions.conf: no Answer() in hotline-inbound's arrive")
        at += len(answer)
        path.write_text(text[:at] + STAMP + "\n" + text[at:])
        _load(self.dir / "etc", "app_verbose.so")  # Log()
        if self.breakdown:
            _log_invites(self.dir / "etc")
        return sec


class AppQueueInstance(RigInstance):
    """Hotline's rendered Asterisk with app_queue in charge of the trunk's calls."""

    def prepare(self, cfg: AcdConfig, settings: AsteriskSettings) -> Secrets:
        sec = super().prepare(cfg, settings)
        etc = self.dir / "etc"
        members = "\n".join(f"member => PJSIP/{a}" for a in cfg.agents)
        (etc / "queues.conf").write_text(QUEUES_CONF.format(queue=QUEUE, members=members))
        (etc / "extensions.conf").write_text(APP_QUEUE_DIALPLAN.format(queue=QUEUE, stamp=STAMP))
        _load(etc, "app_verbose.so", "app_queue.so")
        if self.breakdown:
            _log_invites(etc)
        return sec


def _log_invites(etc: Path) -> None:
    """Asterisk's verbose messages (the PJSIP logger's INVITEs) into log/breakdown.log."""
    with (etc / "logger.conf").open("a") as f:
        f.write(LOGGER_LINE)


def _load(etc: Path, *modules: str) -> None:
    with (etc / "modules.conf").open("a") as f:
        f.writelines(f"load = {m}\n" for m in modules)


@dataclass
class StepRaw:
    """What one step at one rate left: the SIPp logs and the processes' counters."""

    system: str
    rate: float
    calls: int
    seconds: float  # wall time of the step (first call to last call ended)
    callers: list[SippEvent]
    caller_ok: int
    caller_failed: int
    agents: list[SippEvent]
    cpu_s: dict[str, float]  # process -> CPU seconds used in the step
    rss_mb: dict[str, float]  # process -> resident set at the step's end
    ami_events: int | None = None  # AMI events serve received in the step
    ami_ignored: int | None = None
    lag_ms: list[float] = field(default_factory=list)  # serve's AMI lag samples, if any
    numbers: tuple[str, ...] = ()  # the callers' numbers, one per attempted call
    udp_drops: dict[str, int] = field(default_factory=dict)  # SIP datagrams the kernel dropped
    serve_counts: dict[str, int] = field(default_factory=dict)  # serve's counters' step deltas
    kept: Path | None = None  # the step's logs (HOTLINE_LIVELOAD_KEEP), see the module
    trace: list[live_trace.Sample] = field(default_factory=list)  # serve's signs, each second
    started_wall: float = 0.0  # the step's start (epoch seconds, as serve's records)
    # its calls would not drain (a collapse): to restart before the next step
    undrained: bool = False


@dataclass
class System:
    """One system of the rig: its Asterisk, its seats' port, serve (Hotline only)."""

    name: str
    instance: AsteriskInstance
    settings: AsteriskSettings
    uas_port: int
    serve: subprocess.Popen[bytes] | None = None
    state_dir: Path | None = None
    trace: Path | None = None  # serve's hand-off stamps (--breakdown)
    start: Callable[[], None] | None = None  # (re)starts its Asterisk and serve

    def pids(self) -> dict[str, int]:
        out = {"asterisk": self.instance.pid() or 0}
        if self.serve is not None:
            out["serve"] = self.serve.pid
        return {k: v for k, v in out.items() if v}

    def serve_stats(self) -> dict[str, int]:
        if self.state_dir is None:
            return {}
        status, body = request(self.state_dir / "control.sock", "GET", "/status")
        return dict(body.get("stats", {})) if status == 200 else {}

    @property
    def records(self) -> Path | None:
        """serve's call records (one JSON object per line), Hotline only."""
        return self.state_dir / "calls.jsonl" if self.state_dir is not None else None


@dataclass
class LoadRig:
    systems: list[System]
    work: Path
    rtp_file: Path

    def step(
        self, system: System, rate: float, seconds: float, first_number: int, patience_s: float
    ) -> StepRaw:
        """``rate`` calls/s for ``seconds``; talk time min(8 s, 120/rate); returns when
        every call ended (bounded: patience + talk + 30 s after the last start)."""
        calls = max(1, round(rate * seconds))
        talk_s = min(8.0, 120.0 / rate)
        limit = int(rate * (talk_s + patience_s)) + 50
        agent_xml = self._scenario("load_agent", RING_MS=str(RING_MS), TALK_S=f"{talk_s:g}")
        caller_xml = self._scenario(
            "load_caller", PATIENCE_S=f"{talk_s + patience_s:g}", RTP_FILE=str(self.rtp_file)
        )
        budget = seconds + talk_s + patience_s + 60
        rows = [[f"1{first_number + i:010d}"] for i in range(calls)]
        kept = live_logs.keep_dir(self.work, system.name, first_number)
        agents = _started(lambda: Sipp(
            agent_xml, local_port=system.uas_port, calls=100_000, max_time_s=budget + 30,
            extra=SIPP_ARGS + live_logs.short_log_args(kept, "seats"),
        ))  # fmt: skip
        before_cpu = {k: _cpu_s(p) for k, p in system.pids().items()}
        before = system.serve_stats()
        sip = {"seats": system.uas_port, "asterisk": system.settings.sip_port}
        drops0 = live_logs.udp_drops(sip)
        started = time.monotonic()
        sampler = live_trace.Sampler(system.serve_stats).start()
        callers = _started(
            lambda: Sipp(
                caller_xml,
                local_ip=system.settings.trunk_address,
                remote=f"127.0.0.1:{system.settings.sip_port}",
                calls=calls,
                rate=rate,
                limit=limit,
                rows=rows,
                max_time_s=budget,
                extra=SIPP_ARGS + live_logs.short_log_args(kept, "callers"),
            ),
            agents,
        )
        try:
            try:
                res = callers.wait(budget + 15)
            except SippError:  # overran its budget (a collapse): the calls it logged so far
                res = callers.stop()
            seconds_used = time.monotonic() - started
            trace = sampler.stop()
            cpu = {k: _cpu_s(p) - before_cpu.get(k, 0.0) for k, p in system.pids().items()}
            rss = {k: _rss_mb(p) for k, p in system.pids().items()}
            after = system.serve_stats()
            time.sleep(1.0)  # the last BYEs' answers reach the seats' SIPp
            drops = live_logs.udp_drops(sip, since=drops0)
            agent_events = agents.stop(2.0).events
        finally:
            live_logs.copy_sipp_logs(callers, kept, "callers")
            live_logs.copy_sipp_logs(agents, kept, "seats")
            callers.close()
            agents.close()
        raw = StepRaw(system.name, rate, calls, seconds_used, res.events, res.successful,
                      res.failed, agent_events, cpu, rss)  # fmt: skip
        raw.numbers, raw.kept, raw.udp_drops = tuple(r[0] for r in rows), kept, drops
        raw.trace, raw.started_wall = trace, sampler.started
        if before or after:
            raw.ami_events = after.get("events", 0) - before.get("events", 0)
            raw.ami_ignored = after.get("ignored_events", 0) - before.get("ignored_events", 0)
            raw.serve_counts = {k: v - before.get(k, 0) for k, v in after.items()}
        drained = _settle(system)
        live_logs.copy_asterisk_log(system.instance.dir, kept)
        raw.undrained = not drained  # the caller restarts it once it has read its logs
        return raw

    def restart(self, system: System) -> None:
        """Stop the system's serve and Asterisk and start both again, as at the start."""
        if system.serve is not None and system.serve.poll() is None:
            system.serve.kill()
            system.serve.wait()
        old = system.instance.pid()
        system.instance.stop()
        deadline = time.monotonic() + 60  # its ports are free only once it is gone
        while old is not None and Path(f"/proc/{old}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert system.start is not None
        for attempt in range(5):
            try:
                system.start()
                return
            except AsteriskStartError:  # a port still held by the kernel a moment
                if attempt == 4:
                    raise
                time.sleep(2.0)

    def _scenario(self, name: str, **values: str) -> Path:
        text = (HERE / f"{name}.xml").read_text()
        for k, v in values.items():
            text = text.replace(k, v)
        path = self.work / f"{name}-{abs(hash(tuple(values.items())))}.xml"
        path.write_text(text)
        return path


def _started(make: Callable[[], Sipp], *others: Sipp) -> Sipp:
    """A started SIPp; another try with new ports when one was taken meanwhile
    (its free ports are only checked on 127.0.0.1). ``others`` are closed on failure."""
    for attempt in range(4):
        try:
            return make().start()
        except SippError:
            if attempt == 3:
                for o in others:
                    o.close()
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _settle(system: System, timeout_s: float = 20.0) -> bool:
    """Wait until the system has no channel left (a step's stragglers hung up); False
    if it still had some (or did not answer) after ``timeout_s`` and a hang-up of all."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _idle(system):
            return True
        time.sleep(0.5)
    with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
        system.instance.cli("channel request hangup all")
    time.sleep(5.0)
    return _idle(system)


def _idle(system: System) -> bool:
    try:
        out = system.instance.cli("core show channels count")
    except (RuntimeError, subprocess.TimeoutExpired):
        return False
    return out.strip().startswith("0 active channels") or "\n0 active channels" in out


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _start_system(
    system: System, cfg: AcdConfig, config: Path, log: Path, root: Path, breakdown: bool
) -> None:
    """Start the system's Asterisk, and serve for Hotline (again after a collapse)."""
    system.instance.start(cfg, system.settings)
    if breakdown:
        system.instance.cli(INVITE_LOGGER)
    if system.state_dir is not None:
        system.serve = _start_serve(system, config, log, root)


def _start_serve(
    system: System, config: Path, log: Path, root: Path = ROOT
) -> subprocess.Popen[bytes]:
    """``root``: the checkout serve runs from (this interpreter, that checkout's code
    first on the path), e.g. an older commit's for an A/B."""
    assert system.state_dir is not None
    args = [
        sys.executable, "-m", "hotline.cli", "serve", "--config", str(config),
        "--instance", system.instance.name, "--state-dir", str(system.state_dir),
        "--log-level", "WARNING",
    ]  # fmt: skip
    env = dict(os.environ)
    if system.trace is not None:
        env[TRACE_VARIABLE] = str(system.trace)
    offset = log.stat().st_size if log.exists() else 0  # a restart appends
    with log.open("ab") as out:
        proc = subprocess.Popen(args, cwd=root, stdout=out, stderr=out, env=env)
    deadline = time.monotonic() + 60
    while b"hotline serve: ready" not in log.read_bytes()[offset:]:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"hotline serve did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    sock = system.state_dir / "control.sock"
    for agent in SEATS:
        status, body = request(sock, "POST", f"/agents/{agent}/login")
        if status == 409 and "cannot 'login'" in str(body):  # a restart: still logged in
            continue
        if status != 200:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"agent {agent} login refused: {body}")
    return proc


@contextlib.contextmanager
def open_rig(
    systems: tuple[str, ...] = ("hotline", "app_queue"),
    breakdown: bool = False,
    variants: Mapping[str, str] | None = None,
    highpriority: frozenset[str] = frozenset(),
) -> Iterator[LoadRig]:
    """Start the systems asked for (Asterisk instances ``liveload-h`` / ``liveload-q``
    on free ports); everything is stopped and removed when the block ends.
    ``breakdown``: both Asterisks log the INVITEs they send, serve its hand-off
    stamps (:mod:`benchmarks.live_breakdown`). A system ``hotline/<label>`` is one
    more Hotline whose ``[serve]`` also has the TOML lines ``variants[label]`` (an
    A/B of a setting in one run), or, when that is ``root=<checkout>``, whose serve
    runs from that checkout (an A/B of two versions), or, when it starts with
    ``asterisk:``, whose ``[asterisk]`` section has the TOML lines after it (the
    Asterisk it renders, e.g. ``sip_overload_trigger``); ``app_queue/<label>`` is one
    more app_queue (with the ``asterisk:`` lines, if any, as Hotline's). The systems
    whose label is in ``highpriority`` start their Asterisk with ``[asterisk]
    highpriority`` (real-time scheduling), app_queue's as Hotline's."""
    work = Path(tempfile.mkdtemp(prefix="hotline-liveload-"))
    rtp = work / "silence.ulaw"
    rtp.write_bytes(b"\xff" * 160)  # one 20 ms packet of mu-law silence
    root = provision()
    started: list[System] = []
    try:
        for i, name in enumerate(systems):
            kind, _, label = name.partition("/")
            lines = (variants or {}).get(label, "")
            checkout = lines.removeprefix("root=") if lines.startswith("root=") else ""
            asterisk = (
                lines.removeprefix(ASTERISK_PREFIX) if lines.startswith(ASTERISK_PREFIX) else ""
            )
            if checkout or asterisk:
                lines = ""
            uas, sip, ami, agi = free_ports(4)
            state = work / f"serve-{i}"
            config = work / f"{kind}-{i}.toml"
            config.write_text(
                CONFIG.format(queue=QUEUE, sip=sip, ami=ami, agi=agi,
                              uas=uas, state=state, asterisk=f"{asterisk}\n" if asterisk else "")
                + (f"{lines}\n" if kind == "hotline" and lines else "")
            )  # fmt: skip
            cfg = load_config(str(config))
            settings = read_settings(cfg)
            if label in highpriority:  # [asterisk] highpriority, for app_queue's as Hotline's
                settings = dataclasses.replace(settings, highpriority=True)
            suffix = f"-{i}" if label else ""
            if kind == "hotline":
                inst: RigInstance = HotlineInstance(root, f"liveload-h{os.getpid()}{suffix}")
            else:
                inst = AppQueueInstance(root, f"liveload-q{os.getpid()}{suffix}")
            inst.breakdown = breakdown
            system = System(name, inst, settings, uas)
            if kind == "hotline":
                system.state_dir = state
                system.trace = work / f"handoff-{i}.trace" if breakdown else None
            system.start = functools.partial(
                _start_system, system, cfg, config, work / f"serve-{i}.log",
                Path(checkout or ROOT), breakdown,
            )  # fmt: skip
            started.append(system)
            system.start()
        yield LoadRig(started, work, rtp)
    finally:
        for s in started:
            if s.serve is not None and s.serve.poll() is None:
                s.serve.terminate()
                try:
                    s.serve.wait(10)
                except subprocess.TimeoutExpired:
                    s.serve.kill()
                    s.serve.wait()
            s.instance.stop()
            shutil.rmtree(s.instance.dir, ignore_errors=True)
        if os.environ.get(live_logs.KEEP_ENV) is None:
            shutil.rmtree(work, ignore_errors=True)
