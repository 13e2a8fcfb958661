"""serve's scheduling priority: ``[serve] realtime_priority`` (0, off, by default).

With ``realtime_priority = N`` (1–9) ``hotline serve`` asks the kernel, at start and
before its first thread, for ``SCHED_RR`` at priority N, so its one event loop is not
kept waiting for a core behind ordinary processes when a hand-off arrives (issue 13:
the tail of queue entry → agent INVITE is a process waiting for a core at one of the
hand-off's wake-ups). Threads serve starts later inherit it; processes it starts
(``SCHED_RESET_ON_FORK``) do not.

Why this much and no more:

- **Below Asterisk's**: Asterisk's own ``highpriority`` (``asterisk.conf``
  ``[options] highpriority = yes``, or ``-p``) runs every Asterisk thread at
  ``SCHED_RR`` priority 10; serve's priority is at most 9, so Asterisk's threads
  always preempt serve and serve can never keep Asterisk from a core.
- **``SCHED_RR``, not ``SCHED_FIFO``**: at one priority the processes share a core in
  100 ms turns instead of one keeping it until it blocks.
- **A runaway loop cannot take the machine**: the kernel's real-time throttle
  (``/proc/sys/kernel/sched_rt_runtime_us``, 950,000 of each 1,000,000 µs by default)
  leaves ordinary processes at least 5 % of every core, and serve is one thread at a
  time (its one event loop): at worst one core. serve's own loop-lag sign
  (:mod:`telephony.overload`) still sees a loop that falls behind.
- **Not permitted** (no ``CAP_SYS_NICE`` and an ``RLIMIT_RTPRIO`` below N, or a
  control group with no real-time time): a warning that says so and how to grant it,
  and serve runs at the ordinary priority — it never stops for this.
"""

from __future__ import annotations

import logging
import os

__all__ = ["ASTERISK_HIGHPRIORITY", "MAX_PRIORITY", "apply", "current"]

log = logging.getLogger(__name__)

ASTERISK_HIGHPRIORITY = 10  # SCHED_RR priority of Asterisk's highpriority (ast_set_priority)
MAX_PRIORITY = ASTERISK_HIGHPRIORITY - 1  # serve stays below Asterisk


def apply(priority: int, pid: int = 0) -> str | None:
    """Run process ``pid`` (0: this one) at ``SCHED_RR`` ``priority``; 0 does nothing.
    Returns the warning logged when the kernel refused, else None."""
    if priority == 0:
        return None
    if not 1 <= priority <= MAX_PRIORITY:
        raise ValueError(f"realtime_priority: expected 0..{MAX_PRIORITY}, got {priority}")
    policy = os.SCHED_RR | os.SCHED_RESET_ON_FORK
    try:
        os.sched_setscheduler(pid, policy, os.sched_param(priority))
    except OSError as e:
        warning = (
            f"serve.realtime_priority = {priority}: not permitted ({e.strerror or e}); "
            "serve runs at the ordinary priority. Grant it CAP_SYS_NICE or an "
            f"RLIMIT_RTPRIO of at least {priority} (systemd: LimitRTPRIO={priority}), "
            "or set realtime_priority = 0"
        )
        log.warning("%s", warning)
        return warning
    log.info("serve runs at SCHED_RR priority %d", priority)
    return None


def current(pid: int = 0) -> tuple[str, int]:
    """``("SCHED_RR", 5)``, ``("SCHED_OTHER", 0)``...: the policy of ``pid`` now."""
    policy = os.sched_getscheduler(pid) & ~os.SCHED_RESET_ON_FORK
    names = {os.SCHED_OTHER: "SCHED_OTHER", os.SCHED_FIFO: "SCHED_FIFO", os.SCHED_RR: "SCHED_RR"}
    return names.get(policy, str(policy)), os.sched_getparam(pid).sched_priority
