"""``hotline live`` (``make run``) starts the busy-hour demo: it prints the wallboard and
desk URLs with the demo log-ins, the log-ins work, callers overlap so a queue
forms, and a bounded run (``--duration``) stops everything by itself."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from telephony.asterisk.instance import AsteriskInstance
from telephony.asterisk.root import AsteriskRoot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).parents[2]


def _reader(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line.rstrip("\n"))


class Live:
    """``hotline live`` as a subprocess, its output read line by line."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "live", *args], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=_reader, args=(self.proc, self.lines), daemon=True)
        self.reader.start()
        self.seen: list[str] = []

    def next_match(self, pattern: str, timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.seen[-30:]))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def instance_name(asterisk_root: AsteriskRoot) -> Iterator[Callable[[str], str]]:
    """Names for the demo's Asterisk instances; each one's folder, which ``hotline live``
    leaves stopped for a look, is removed after the test (it would pile up in the
    cached root, two a run)."""
    names: list[str] = []

    def name(suffix: str) -> str:
        names.append(f"pytest-{os.getpid()}-{suffix}")
        return names[-1]

    yield name
    for n in names:
        instance = AsteriskInstance(asterisk_root, n)
        if not instance.running():
            shutil.rmtree(instance.dir, ignore_errors=True)


def test_the_demo_prints_its_urls_logs_in_and_builds_a_queue(
    asterisk_root: AsteriskRoot, tmp_path: Path, instance_name: Callable[[str], str]
) -> None:
    name = instance_name("live")
    args = [
        sys.executable, "-m", "hotline.cli", "live", "--duration", "40", "--web-port", "0",
        "--seats", "2", "--rate", "1", "--calls", "40", "--residents", "200",
        "--state-dir", str(tmp_path / "live"), "--instance", name,
    ]  # fmt: skip
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_reader, args=(proc, lines), daemon=True)
    reader.start()
    seen: list[str] = []

    def next_match(pattern: str, timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(seen[-30:]))

    try:
        url = next_match(r"wallboard: (http://127\.0\.0\.1:\d+)/wallboard", 120)[1]
        next_match(r"agent desk: .*/desk .*agent2001 \(seat 2001\)", 5)
        password = next_match(r"password \(every demo user\): (\S+)", 5)[1]
        with httpx.Client(base_url=url, timeout=10) as web:
            r = web.post("/api/crm/login", json={"name": "supervisor", "password": password})
            assert r.status_code == 200 and r.json()["user"]["role"] == "supervisor", r.text
            r = web.post("/api/crm/login", json={"name": "agent2001", "password": password})
            assert r.status_code == 200 and r.json()["user"]["agent_id"] == "2001", r.text
            bad = web.post("/api/crm/login", json={"name": "agent2001", "password": "wrong-one"})
            assert bad.status_code == 401
            # calls overlap: more callers wait than the two seats can take
            next_match(r"^waiting ([3-9]|\d\d+) ", 40)
            assert "hotline_waiting_calls" in web.get("/metrics").text
        next_match(r"queue_log and call records in", 60)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert not AsteriskInstance(asterisk_root, name).running()
    log = (tmp_path / "live" / "serve.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def test_a_killed_serve_is_restarted_and_the_calls_in_progress_go_on(
    asterisk_root: AsteriskRoot, tmp_path: Path, instance_name: Callable[[str], str]
) -> None:
    """SIGKILL of the serve ``hotline live`` started, with callers waiting: live says
    so, starts serve again on the same state directory, the waiting callers are
    adopted and answered, and the run ends normally; one record per call."""
    name = instance_name("live-kill")
    state = tmp_path / "live"
    live = Live([
        "--duration", "75", "--web-port", "0", "--seats", "2", "--rate", "1", "--calls", "50",
        "--residents", "200", "--no-mqtt", "--state-dir", str(state), "--instance", name,
    ])  # fmt: skip
    try:
        pid = int(live.next_match(r"hotline serve running \(pid (\d+)\)", 120)[1])
        live.next_match(r"^waiting ([3-9]|\d\d+) .*agents: .*on-call", 60)  # a queue, talks
        os.kill(pid, signal.SIGKILL)  # a crash of serve (its pid, as live printed it)
        killed_at = time.time()
        live.next_match(r"hotline serve exited unexpectedly \(signal 9\); restarting", 10)
        again = int(live.next_match(r"hotline serve running \(pid (\d+)\)", 60)[1])
        assert again != pid
        live.next_match(r"^waiting [1-9].*agents: .*on-call", 10)  # all adopted
        live.next_match(r"--duration 75 s reached", 90)
        live.next_match(r"queue_log and call records in", 60)
        assert live.proc.wait(30) == 0
    finally:
        live.close()
    assert not AsteriskInstance(asterisk_root, name).running()
    lines = [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]
    records = [r for r in lines if "kind" not in r]  # not the surveys' annotations
    per_call = Counter(r["call"] for r in records)
    assert set(per_call.values()) == {1}, per_call
    after = [r for r in records if (r["wrapup_ended_at"] or r["left_at"] or 0) > killed_at]
    assert after, records  # recorded by the new serve
    log = (state / "serve.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
