"""Live load: serve's overload signs over a step, and when the door closed.

Issue 13's graceful overload asks *when*: a shedding that starts after callers
have given up is too late. While a Hotline step runs, :class:`Sampler` reads
serve's ``/status`` counters once a second (the stasis probe's lag, the AMI
``Timestamp`` lag, the event loop's lag, ``overloaded``, the refusals); after it,
:func:`trace_lines` prints the signs' trace (the worst of each 5 s) and, from
serve's ``calls.jsonl``, the first refusal against the first caller lost
(seconds into the step).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

__all__ = ["Sampler", "first_times", "first_unanswered", "trace_lines"]

Sample = tuple[float, dict[str, int]]  # seconds into the step, serve's counters
SIGNS = ("stasis_lag_ms", "ami_lag_ms", "loop_lag_ms")  # acd.counters.Count values
BIN_S = 5.0


class Sampler:
    """Polls ``read()`` every ``every_s`` in a thread, from :meth:`start` to :meth:`stop`."""

    def __init__(self, read: Callable[[], dict[str, int]], every_s: float = 1.0) -> None:
        self.read, self.every_s = read, every_s
        self.samples: list[Sample] = []
        self.started = 0.0  # wall clock (epoch seconds, as serve's records)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-trace", daemon=True)

    def start(self) -> Sampler:
        self.started = time.time()
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join(10)
        return self.samples

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                stats = self.read()
            except OSError:  # serve busy or gone: a gap in the trace
                continue
            self.samples.append((time.time() - self.started, stats))


def first_unanswered(kept: Path | None, started: float) -> float | None:
    """Seconds into the step of the first INVITE Asterisk never answered with a 200
    OK or a final refusal (a 503 from the door: :mod:`telephony.door`), i.e. a caller
    lost before serve saw it, from the callers' SIP messages when the
    step's logs were kept (``HOTLINE_LIVELOAD_KEEP``: date, time, epoch, S/R,
    Call-ID, CSeq, first line)."""
    path = kept / "callers-messages.csv" if kept is not None else None
    if path is None or not path.is_file():
        return None
    sent: dict[str, float] = {}
    answered: set[str] = set()
    for line in path.read_text(errors="replace").splitlines():
        f = line.split("\t")
        if len(f) < 7 or "INVITE" not in f[5]:
            continue
        if f[3] == "S" and f[6].startswith("INVITE"):
            sent.setdefault(f[4], float(f[2]))
        elif f[3] == "R" and f[6].startswith(("SIP/2.0 200", "SIP/2.0 503")):
            answered.add(f[4])
    return min((t - started for c, t in sent.items() if c not in answered), default=None)


def first_times(
    records: Path | None, numbers: Iterable[str], lost: Iterable[str], started: float
) -> tuple[float | None, float | None]:
    """Seconds into the step of the first refusal (its arrival) and of the first
    lost caller's end (``left_at`` of its record: gave up, sent away), from serve's
    records of the step's numbers (a caller lost with no record is not seen here:
    :func:`first_unanswered`)."""
    if records is None or not records.is_file():
        return None, None
    wanted, lost_set = set(numbers), set(lost)
    refused: list[float] = []
    gone: list[float] = []
    for line in records.read_text(errors="replace").splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        caller = str(r.get("caller", ""))
        if caller not in wanted:
            continue
        if r.get("outcome") == "refused-overload":
            refused.append(float(r["arrived_at"]) - started)
        elif caller in lost_set and r.get("left_at") is not None:
            gone.append(float(r["left_at"]) - started)
    return min(refused, default=None), min(gone, default=None)


def _bins(samples: Sequence[Sample], key: str) -> list[int]:
    out: list[int] = []
    for t, stats in samples:
        i = int(t // BIN_S)
        while len(out) <= i:
            out.append(0)
        out[i] = max(out[i], stats.get(key, 0))
    return out


def _first_over(samples: Sequence[Sample], key: str, limit_ms: float) -> float | None:
    return next((t for t, s in samples if s.get(key, 0) >= limit_ms), None)


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} s"


def trace_lines(
    name: str,
    samples: Sequence[Sample],
    first_refusal_s: float | None,
    first_lost_s: float | None,
    limits_ms: dict[str, float],
    first_unanswered_s: float | None = None,
) -> str:
    """The step's trace as Markdown comments: when the door closed, and each sign's
    worst per ``BIN_S`` (milliseconds) with when it first crossed its threshold."""
    shed = next((t for t, s in samples if s.get("overloaded", 0)), None)
    lines = [
        f"<!-- {name}: first refusal {_s(first_refusal_s)}, first lost caller's record "
        f"ends {_s(first_lost_s)}, first INVITE never answered {_s(first_unanswered_s)}, "
        f"serve overloaded first seen {_s(shed)} into the step -->"
    ]
    for key in SIGNS:
        if not any(key in s for _, s in samples):
            continue
        limit = limits_ms.get(key)
        over = _first_over(samples, key, limit) if limit else None
        crossed = f", >= {limit:g} ms first at {_s(over)}" if limit else ""
        worst = " ".join(str(v) for v in _bins(samples, key))
        lines.append(f"<!-- {name}: {key} worst per {BIN_S:g} s: {worst}{crossed} -->")
    return "\n".join(lines)
