"""``hotline live`` (``make run``) starts the busy-hour demo: it prints the wallboard and
desk URLs with the demo log-ins, the log-ins work, callers overlap so a queue
forms, and a bounded run (``--duration``) stops everything by itself."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
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


def test_the_demo_prints_its_urls_logs_in_and_builds_a_queue(
    asterisk_root: AsteriskRoot, tmp_path: Path
) -> None:
    name = f"pytest-{os.getpid()}-live"
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
