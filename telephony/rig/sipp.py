"""SIPp processes for the Hotline rig: residents calling in, agent seats answering.

The scenarios live in ``asterisk-conf/sipp/`` (``resident.xml``, ``agent.xml``,
``agent_noanswer.xml``); per-call values (patience, DTMF digit, ring and talk
times, caller number) come from an injection file written here from rows the
caller draws with its own seeded ``random.Random``. Every run is bounded: a
call count (``-m``) and a global time limit (``-timeout``); :meth:`Sipp.stop`
ends it early. Each step a call takes is logged by the scenario and parsed back
into :class:`SippEvent` records, so tests compare times with Asterisk's.
"""

from __future__ import annotations

import csv
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from telephony.asterisk.instance import free_port
from telephony.asterisk.render import template_dir

__all__ = ["Sipp", "SippError", "SippEvent", "SippResult", "agent_rows", "resident_rows"]

_EVENT = re.compile(r"event=(\w+) call=(\d+)(.*?) t=(\d+(?:\.\d+)?)")
_FIELD = re.compile(r"(\w+)=(\S+)")
# The steps a scenario logs last when a call completes as it should.
TERMINAL = frozenset({"hung_up", "far_bye", "cancelled", "registered"})
# How often :meth:`Sipp.start` tries another media port when SIPp finds one taken.
MEDIA_PORT_TRIES = 3


class SippError(RuntimeError):
    """SIPp could not run the scenario (bad arguments, port in use, ...)."""


@dataclass(frozen=True, slots=True)
class SippEvent:
    """One logged step of one call: ``answered``, ``dtmf``, ``far_bye``, ``hung_up``, ..."""

    event: str
    call: int
    at: float
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SippResult:
    returncode: int
    successful: int
    failed: int
    events: list[SippEvent]
    errors: str

    def by_call(self) -> dict[int, list[SippEvent]]:
        out: dict[int, list[SippEvent]] = {}
        for e in self.events:
            out.setdefault(e.call, []).append(e)
        return out


def scenario_path(name: str) -> Path:
    """A scenario shipped in ``asterisk-conf/sipp/`` (``"resident"`` → resident.xml)."""
    p = template_dir() / "sipp" / f"{name}.xml"
    if not p.is_file():
        raise SippError(f"no SIPp scenario {p}")
    return p


def resident_rows(
    patience_ms: Iterable[int], digit: str = "none", dtmf_after_ms: int = 1500, caller: str = ""
) -> list[list[str]]:
    """Injection rows for ``resident.xml``: one per call."""
    return [
        [str(p), digit, str(dtmf_after_ms), caller or f"1380000{i:04d}"]
        for i, p in enumerate(patience_ms)
    ]


def agent_rows(ring_talk_ms: Iterable[tuple[int, int]]) -> list[list[str]]:
    """Injection rows for ``agent.xml``: (ring_ms, talk_ms) per call."""
    return [[str(r), str(t)] for r, t in ring_talk_ms]


class Sipp:
    """One SIPp process and its work folder (``hotline-sipp-*`` in the temporary
    directory); use as a context manager (or call :meth:`close`) so that it is always
    stopped and the folder removed."""

    def __init__(
        self,
        scenario: str | Path,
        *,
        local_ip: str = "127.0.0.1",
        local_port: int | None = None,
        remote: str | None = None,
        service: str = "12345",
        calls: int = 1,
        rate: float = 1.0,
        limit: int | None = None,
        max_time_s: float = 60.0,
        rows: Sequence[Sequence[str]] | None = None,
        extra: Sequence[str] = (),
        wrap: Sequence[str] = (),
    ) -> None:
        """``wrap`` runs SIPp through a command, e.g. ``("ip", "netns", "exec", ns)``
        (it must exec SIPp in place, so the process is SIPp's own)."""
        if calls < 1:
            raise ValueError(f'"calls" must be >= 1, got {calls}')
        if max_time_s <= 0:
            raise ValueError(f'"max_time_s" must be > 0, got {max_time_s}')
        self.path = Path(scenario) if isinstance(scenario, Path) else scenario_path(scenario)
        self.local_ip = local_ip
        self.local_port = local_port or free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="hotline-sipp-"))
        self.log_file = self.workdir / "calls.log"
        self.stat_file = self.workdir / "stat.csv"
        self.error_file = self.workdir / "errors.log"
        args = [
            *wrap, "sipp",
            "-sf", str(self.path),
            "-i", local_ip,
            "-p", str(self.local_port),
            "-mp", str(free_port()),
            "-m", str(calls),
            "-timeout", f"{max_time_s:g}s",
            "-nostdin",
            "-trace_logs", "-log_file", str(self.log_file),
            "-trace_stat", "-stf", str(self.stat_file), "-fd", "1",
            "-trace_err", "-error_file", str(self.error_file),
        ]  # fmt: skip
        if remote is not None:
            args += [remote, "-s", service, "-r", f"{rate:g}", "-rp", "1000"]
        if limit is not None:
            args += ["-l", str(limit)]
        if rows:
            inf = self.workdir / "rows.csv"
            with inf.open("w", newline="") as f:
                f.write("SEQUENTIAL\n")
                csv.writer(f, delimiter=";", lineterminator="\n").writerows(rows)
            args += ["-inf", str(inf)]
        self.args = args + list(extra)
        self.proc: subprocess.Popen[bytes] | None = None
        self._final: SippResult | None = None  # read before the work folder was removed

    def start(self) -> Sipp:
        """Start SIPp; if it cannot start, its work folder is removed at once.

        The media port (``-mp``) is any free port and SIPp also binds the ones just
        above it; if one of those was taken meanwhile (another process's connection),
        SIPp is started again on another media port, up to :data:`MEDIA_PORT_TRIES`
        times."""
        try:
            for attempt in range(1, MEDIA_PORT_TRIES + 1):
                with (self.workdir / "stderr.log").open("wb") as err:
                    self.proc = subprocess.Popen(
                        self.args,
                        cwd=self.workdir,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                    )
                time.sleep(0.2)
                if self.proc.poll() is None or self.proc.returncode in (0, 1):
                    break
                stderr = self._stderr()
                if attempt < MEDIA_PORT_TRIES and _media_port_taken(stderr):
                    self.args[self.args.index("-mp") + 1] = str(free_port())
                    continue
                raise SippError(f"sipp exited at once ({self.proc.returncode}): {stderr}")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """End the run: stop SIPp if it still runs, read its results, then remove its
        work folder; :meth:`result` and :meth:`events` answer from memory after."""
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        if self.proc is not None and self._final is None:
            self._final = self.result(self.proc.returncode)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _stderr(self) -> str:
        p = self.workdir / "stderr.log"
        return p.read_text(errors="replace").strip()[-2000:] if p.is_file() else ""

    def wait(self, timeout_s: float | None = None) -> SippResult:
        """Wait for SIPp to finish by itself (its call count or time limit)."""
        if self.proc is None:
            raise SippError("sipp was not started")
        try:
            rc = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            raise SippError(f"sipp still running after {timeout_s} s; stopped") from None
        return self.result(rc)

    def stop(self, grace_s: float = 5.0) -> SippResult:
        """Ask SIPp to finish (SIGUSR1: no new calls), then end it."""
        if self.proc is None:
            raise SippError("sipp was not started")
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.result(self.proc.returncode)

    def result(self, rc: int) -> SippResult:
        if self._final is not None:
            return self._final
        successful, failed = _totals(self.stat_file)
        events = self.events()
        # SIPp's last statistics line can be written before the last call ends;
        # a call that logged its final step completed, whatever the file says.
        successful = max(successful, len({e.call for e in events if e.event in TERMINAL}))
        errors = _errors(self.error_file)
        if rc not in (0, 1, 97, 99):
            errors = f"{errors}\n{self._stderr()}".strip()
        return SippResult(rc, successful, failed, events, errors)

    def events(self) -> list[SippEvent]:
        if self._final is not None:
            return self._final.events
        if not self.log_file.is_file():
            return []
        out = []
        for line in self.log_file.read_text(errors="replace").splitlines():
            m = _EVENT.search(line)
            if m:
                fields = dict(_FIELD.findall(m[3]))
                if fields.get("seat", "").startswith("sip:"):
                    fields["seat"] = fields["seat"][4:]
                out.append(SippEvent(m[1], int(m[2]), float(m[4]), fields))
        return out

    def __enter__(self) -> Sipp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _media_port_taken(stderr: str) -> bool:
    """SIPp's start-up error for a media (RTP) port another process holds."""
    return "RTP socket" in stderr and "errno = 98" in stderr


def _errors(path: Path) -> str:
    """SIPp's error log without the noise our scenarios cause on purpose."""
    if not path.is_file():
        return ""
    text = path.read_text(errors="replace").replace("\t", " ")
    entries = re.split(r"(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)", text)
    noise = ("receive timeout on message", "Overload warning", "The following events occurred")
    return "".join(e for e in entries if e.strip() and not any(n in e for n in noise)).strip()


def _totals(stat_file: Path) -> tuple[int, int]:
    """Successful and failed calls from SIPp's last statistics line."""
    if not stat_file.is_file():
        return 0, 0
    rows = list(csv.reader(stat_file.read_text(errors="replace").splitlines(), delimiter=";"))
    if len(rows) < 2:
        return 0, 0
    head, last = rows[0], rows[-1]
    col = {name: i for i, name in enumerate(head)}
    try:
        return int(last[col["SuccessfulCall(C)"]]), int(last[col["FailedCall(C)"]])
    except (KeyError, IndexError, ValueError):
        return 0, 0
