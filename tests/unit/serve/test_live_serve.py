"""``ServeKeeper`` with real child processes standing in for ``hotline serve``: one
that exits is started again (same starter, so the same state directory), with a
growing delay; too many restarts in the window and it gives up."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from serve.live_serve import ServeKeeper

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
FAILS = [sys.executable, "-c", "raise SystemExit(3)"]


class Starter:
    def __init__(self, args: list[str], *, dies: bool = False) -> None:
        self.args = args
        self.dies = dies  # comes up, then exits at once (before the next check)
        self.started: list[subprocess.Popen[bytes]] = []

    def __call__(self) -> tuple[subprocess.Popen[bytes], str]:
        self.started.append(subprocess.Popen(self.args))
        if self.dies:
            self.started[-1].wait()
        return self.started[-1], f"http://127.0.0.1:{len(self.started)}"

    def close(self) -> None:
        for p in self.started:
            if p.poll() is None:
                p.kill()
            p.wait()


def test_a_killed_serve_is_started_again(capsys: pytest.CaptureFixture[str]) -> None:
    start = Starter(SLEEPER)
    keeper = ServeKeeper(start, backoff_s=0.01)
    try:
        keeper.start()
        assert keeper.keep() and len(start.started) == 1  # running: nothing to do
        start.started[0].send_signal(signal.SIGKILL)
        start.started[0].wait()
        assert keeper.keep()
        assert len(start.started) == 2 and keeper.alive()
        assert keeper.url == "http://127.0.0.1:2"
        err = capsys.readouterr().err
        assert "exited unexpectedly (signal 9)" in err and "same state directory" in err
        keeper.stop()
        assert not keeper.alive()
    finally:
        start.close()


def test_a_serve_that_keeps_dying_is_given_up_after_max_restarts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    start = Starter(FAILS, dies=True)
    keeper = ServeKeeper(start, max_restarts=3, window_s=60, backoff_s=0.01)
    try:
        keeper.start()
        assert keeper.keep() is False
        assert len(start.started) == 4  # the first start and three restarts
        err = capsys.readouterr().err
        assert "(code 3)" in err and "3 restarts in 60 s: giving up" in err
        assert [
            float(line.split("restarting in ")[1].split(" s")[0])
            for line in err.splitlines()
            if "restarting in" in line
        ] == [0.01, 0.02, 0.04]
    finally:
        start.close()


def test_a_failed_restart_counts_and_is_retried(capsys: pytest.CaptureFixture[str]) -> None:
    start = Starter(SLEEPER)
    calls = {"n": 0}

    def flaky() -> tuple[subprocess.Popen[bytes], str]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("hotline serve did not start")
        return start()

    keeper = ServeKeeper(flaky, backoff_s=0.01)
    try:
        keeper.start()
        start.started[0].kill()
        start.started[0].wait()
        assert keeper.keep() and keeper.alive()
        assert calls["n"] == 3 and len(keeper.restarts) == 2
        assert "did not start" in capsys.readouterr().err
    finally:
        start.close()
