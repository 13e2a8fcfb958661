"""Prometheus metric names, and the shell counters they are read from. These strings
are part of the exposed API (dashboards and alert rules query them): change them
only with a CHANGELOG entry.

Names follow ``hotline_<noun>_<unit>``; counters end in ``_total``. Labels:
``queue`` (the entry queue), ``outcome`` (``acd.types.Outcome``), ``state``
(``acd.agent_state.AgentState``), ``kind`` (``acd.alarms.AlarmKind``),
``threshold`` (a service-level threshold in seconds, e.g. ``"20"``).
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.counters import Count

# --- from finished call records (serve.prometheus.Metrics.on_effect) ---------------
CALLS = "hotline_calls"  # counter, exposed as hotline_calls_total{queue, outcome}
WAIT_SECONDS = "hotline_wait_seconds"  # histogram {queue}: arrival to answer or leaving
TALK_SECONDS = "hotline_talk_seconds"  # histogram {queue}: answered calls' talk time
HANDLE_SECONDS = "hotline_handle_seconds"  # histogram {queue}: talk + wrap-up

# --- from the shell's transfer notes (telephony.notifier.CallHandedOn) ---------------
TRANSFERS = "hotline_transfers"  # counter {queue, mode, kind}: calls handed on, with _total

# --- from agent state changes --------------------------------------------------------
AGENT_STATE_CHANGES = "hotline_agent_state_changes"  # counter {state}: entries into state

# --- read at scrape time from the read model (CentreView) ------------------------------
WAITING_CALLS = "hotline_waiting_calls"  # gauge {queue}
LONGEST_WAIT_SECONDS = "hotline_longest_wait_seconds"  # gauge {queue}
AGENTS = "hotline_agents"  # gauge {state}

# --- KPIs by acd.metrics over today's records (the one implementation) ---------------
SERVICE_LEVEL_RATIO = "hotline_service_level_ratio"  # gauge {queue, threshold}; 0..1
ABANDON_RATE_RATIO = "hotline_abandon_rate_ratio"  # gauge {queue}; 0..1
ASA_SECONDS = "hotline_asa_seconds"  # gauge {queue}
AHT_SECONDS = "hotline_aht_seconds"  # gauge {queue}

# --- alarms ------------------------------------------------------------------------------
ALARMS_ACTIVE = "hotline_alarms_active"  # gauge {kind}
ALARMS_RAISED = "hotline_alarms_raised"  # counter {kind}, exposed with _total

# Buckets for the wait and talk histograms, in seconds: the service-level
# thresholds (15, 20) and the escalation steps (30, 90, 180) are bucket edges, so a
# histogram_quantile or a bucket ratio answers "answered within 20 s" exactly.
WAIT_BUCKETS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)
TALK_BUCKETS = (30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)


@dataclass(frozen=True, slots=True)
class StatCounter:
    """One sample of a Prometheus counter whose value is a shell counter, read at
    scrape time (no double bookkeeping). Entries with one ``name`` form one family."""

    name: str  # without _total; the exposition adds it
    help: str
    stat: Count
    labels: tuple[tuple[str, str], ...] = ()
    offset: int = 0  # subtracted, never below 0 (AMI reconnects = log-ins - the first)


AMI_RECONNECTS = "hotline_ami_reconnects"
AMI_DISCONNECTS = "hotline_ami_disconnects"
MQTT_DROPS = "hotline_mqtt_drops"
MQTT_MESSAGES = "hotline_mqtt_messages"
MQTT_CONNECT_FAILURES = "hotline_mqtt_connect_failures"
CRM_FAILURES = "hotline_crm_failures"
STICKY_LOOKUPS = "hotline_sticky_lookups"
STATE_CORRECTIONS = "hotline_state_corrections"
REFUSED_CONNECTIONS = "hotline_refused_connections"  # {socket}: control or fastagi
REFUSED_CALLS = "hotline_refused_calls"  # {reason}: shed at the hand-off or the door
DOOR_REFUSED = "hotline_door_refused"  # of those, refused by the dialplan's door
DOOR_BUSY = "hotline_door_busy"  # of those, hung up with a SIP 503 (no message)
BROADCASTS_PLAYED = "hotline_broadcasts_played"  # callers who heard the emergency broadcast
CRM_PRIORITIES = "hotline_crm_priorities"  # callers given a priority class by a CRM flag

_STICKY = "case-owner look-ups for sticky routing, by result"
_REFUSED = "connections refused: a local user on the control socket, FastAGI without the secret"

STAT_COUNTERS: tuple[StatCounter, ...] = (
    StatCounter(AMI_RECONNECTS, "AMI log-ins after the first one", Count.CONNECTS, offset=1),
    StatCounter(AMI_DISCONNECTS, "AMI connections lost", Count.DISCONNECTS),
    StatCounter(MQTT_DROPS, "MQTT call events dropped from a full buffer", Count.MQTT_DROPS),
    StatCounter(MQTT_MESSAGES, "MQTT messages published", Count.MQTT_PUBLISHED),
    StatCounter(MQTT_CONNECT_FAILURES, "failed MQTT connections", Count.MQTT_CONNECT_FAILURES),
    StatCounter(CRM_FAILURES, "CRM operations that failed", Count.CRM_FAILURES),
    StatCounter(STICKY_LOOKUPS, _STICKY, Count.STICKY_OWNERS, (("result", "found"),)),
    StatCounter(STICKY_LOOKUPS, _STICKY, Count.STICKY_LOOKUP_TIMEOUTS, (("result", "timeout"),)),
    StatCounter(STICKY_LOOKUPS, _STICKY, Count.STICKY_LOOKUP_FAILURES, (("result", "failed"),)),
    StatCounter(STICKY_LOOKUPS, _STICKY, Count.STICKY_LOOKUP_SKIPPED, (("result", "skipped"),)),
    StatCounter(STATE_CORRECTIONS, "agent states corrected from Asterisk", Count.STATE_CORRECTIONS),
    StatCounter(REFUSED_CONNECTIONS, _REFUSED, Count.CONTROL_REFUSED, (("socket", "control"),)),
    StatCounter(REFUSED_CONNECTIONS, _REFUSED, Count.AGI_REFUSED, (("socket", "fastagi"),)),
    StatCounter(
        REFUSED_CALLS,
        "new calls refused politely because serve or Asterisk could not keep up",
        Count.REFUSED_OVERLOAD,
        (("reason", "overload"),),
    ),
    StatCounter(DOOR_REFUSED, "of the refused, those refused at the door", Count.DOOR_REFUSED),
    StatCounter(DOOR_BUSY, "of the door's, those sent a SIP 503 (no message)", Count.DOOR_BUSY),
    StatCounter(BROADCASTS_PLAYED, "callers who heard the broadcast", Count.BROADCASTS_PLAYED),
    StatCounter(CRM_PRIORITIES, "callers prioritised by a CRM flag", Count.CRM_PRIORITIES),
)


# --- gauges read from the shell counters at scrape time (telephony.overload) -------------
AMI_LAG_SECONDS = "hotline_ami_lag_seconds"  # how late the latest AMI event arrived
AMI_LAG_MAX_SECONDS = "hotline_ami_lag_max_seconds"  # the worst of the last window
LOOP_LAG_SECONDS = "hotline_loop_lag_seconds"  # how far serve's event loop is behind
STASIS_LAG_SECONDS = "hotline_stasis_lag_seconds"  # the stasis probe's round trip / age
STASIS_LAG_MAX_SECONDS = "hotline_stasis_lag_max_seconds"  # the worst of the last window
OVERLOADED = "hotline_overloaded"  # 1 while new calls are shed, else 0


@dataclass(frozen=True, slots=True)
class StatGauge:
    """A Prometheus gauge whose value is a shell counter times ``scale``."""

    name: str
    help: str
    stat: Count
    scale: float = 1.0


STAT_GAUGES: tuple[StatGauge, ...] = (
    StatGauge(AMI_LAG_SECONDS, "delay of the latest AMI event", Count.AMI_LAG_MS, 0.001),
    StatGauge(
        AMI_LAG_MAX_SECONDS, "worst AMI event delay, last window", Count.AMI_LAG_MAX_MS, 0.001
    ),
    StatGauge(LOOP_LAG_SECONDS, "how late serve's event loop ran", Count.LOOP_LAG_MS, 0.001),
    StatGauge(
        STASIS_LAG_SECONDS,
        "Asterisk's event pipeline delay (stasis probe round trip or age)",
        Count.STASIS_LAG_MS,
        0.001,
    ),
    StatGauge(
        STASIS_LAG_MAX_SECONDS,
        "worst stasis probe delay, last window",
        Count.STASIS_LAG_MAX_MS,
        0.001,
    ),
    StatGauge(OVERLOADED, "1 while new calls are refused (overload)", Count.OVERLOADED),
)
