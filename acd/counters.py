"""The names of Hotline's counters: part of the exposed API.

``hotline agent status`` (``/status``'s ``stats``), the log at stop, and the
Prometheus counters read from them (:mod:`serve.metric_names`) show these strings;
dashboards and alert rules use them. Rename one only with a CHANGELOG entry.

Every part of ``hotline serve`` counts into one shared ``collections.Counter[str]``
keyed by these members (a ``StrEnum``: the key *is* the string). No counter name is
written anywhere else as a string; a test checks it.
"""

from __future__ import annotations

import enum

__all__ = ["Count"]


class Count(enum.StrEnum):
    # AMI framing (telephony.ami_frames)
    FRAMES = "frames"
    MALFORMED_FRAMES = "malformed_frames"
    MALFORMED_LINES = "malformed_lines"
    OVERSIZED_FRAMES = "oversized_frames"
    INVALID_UTF8 = "invalid_utf8"
    # the AMI connection (telephony.ami_client)
    EVENTS = "events"
    STRAY_RESPONSES = "stray_responses"
    CONNECTS = "connects"
    CONNECT_FAILURES = "connect_failures"
    DISCONNECTS = "disconnects"
    ACTION_TIMEOUTS = "action_timeouts"
    # AMI events into engine events (telephony.translate)
    IGNORED_EVENTS = "ignored_events"
    MISSING_FIELDS = "missing_fields"
    STALE_ORIGINATE_RESPONSES = "stale_originate_responses"
    STALE_CALLBACK_REQUESTS = "stale_callback_requests"
    INVALID_CALLBACK_NUMBERS = "invalid_callback_numbers"
    # callers that left their own holding bridge (hotline-ring): moved into the agent's
    # call (not yanked out of the dialplan), back to the hold loop, or hung up
    RING_HOLD_LEAVES = "ring_hold_leaves"
    # the call shell (telephony.shell, telephony.notifier, telephony.legs)
    ENGINE_EVENTS = "engine_events"
    ENGINE_ERRORS = "engine_errors"
    DUPLICATE_ENQUEUES = "duplicate_enqueues"
    OFFERS_WITHOUT_LEG = "offers_without_leg"
    ORIGINATE_FAILURES = "originate_failures"
    EXIT_FAILURES = "exit_failures"
    ACTION_FAILURES = "action_failures"
    TASK_FAILURES = "task_failures"  # a background AMI action that raised past its handler
    DROPPED_AT_STOP = "dropped_at_stop"  # actions not sent: serve was stopping
    ILLEGAL_LEG_TRANSITIONS = "illegal_leg_transitions"
    NOTIFY_FAILURES = "notify_failures"
    # resynchronisation with Asterisk (telephony.resync)
    RESYNCS = "resyncs"
    RESYNC_FAILURES = "resync_failures"
    ADOPTED_CALLS = "adopted_calls"
    ADOPT_FAILURES = "adopt_failures"
    STALE_AGENT_LEGS = "stale_agent_legs"  # a previous process's ringing offer, hung up
    STATE_CORRECTIONS = "state_corrections"
    # stuck-state healing (telephony.reconcile): each correction by kind, and the checks
    CORRECTED_BUSY_ELSEWHERE = "corrected_busy_elsewhere"
    CORRECTED_FREE_AGAIN = "corrected_free_again"
    CORRECTED_CALL_VANISHED = "corrected_call_vanished"
    CORRECTED_OFFER_VANISHED = "corrected_offer_vanished"
    CORRECTED_CALLER_VANISHED = "corrected_caller_vanished"
    CORRECTED_NO_CHANNEL = "corrected_no_channel"
    CORRECTED_REACHABILITY = "corrected_reachability"
    CORRECTED_ADOPTED_TALKING = "corrected_adopted_talking"
    RECONCILES = "reconciles"
    RECONCILE_FAILURES = "reconcile_failures"
    # overload (telephony.overload): how late AMI events arrive, how far the event loop
    # is behind (gauges, in milliseconds), and the calls shed at the hand-off
    AMI_LAG_MS = "ami_lag_ms"  # a gauge: the latest event's delay (Asterisk's Timestamp)
    AMI_LAG_MAX_MS = "ami_lag_max_ms"  # a gauge: the worst delay in the last window
    LOOP_LAG_MS = "loop_lag_ms"  # a gauge: how late the event loop ran its last probe
    STASIS_LAG_MS = "stasis_lag_ms"  # a gauge: the stasis probe's sign (telephony.stasis_probe)
    STASIS_LAG_MAX_MS = "stasis_lag_max_ms"  # a gauge: its worst in the last window
    STASIS_PROBES = "stasis_probes"  # stasis probes sent (and sent again)
    STASIS_PROBE_ERRORS = "stasis_probe_errors"  # Asterisk refused the probe's Setvar
    OVERLOADED = "overloaded"  # a gauge: 1 while new calls are shed
    REFUSED_OVERLOAD = "refused_overload"  # calls refused politely (hand-off and door)
    DOOR_REFUSED = "door_refused"  # refused by the dialplan's door (telephony.door)
    DOOR_BUSY = "door_busy"  # of those, hung up with a SIP 503 and no message
    DOOR_ERRORS = "door_errors"  # Asterisk refused the door's Setvar
    LOST_WHILE_AWAY = "lost_while_away"  # hung up while serve was away: recorded lost
    DOOR_JOURNAL_ERRORS = "door_journal_errors"  # door journal: bad line or failed read
    LAG_RECONCILES = "lag_reconciles"  # agent checks started because AMI ran late
    HANDOFF_EXITS = "handoff_exits"  # calls sent out by the hand-off itself (no Redirect)
    # the IVR (ivr.agi_driver)
    IVR_CALLS = "ivr_calls"
    IVR_ROUTED = "ivr_routed"
    IVR_HANGUPS = "ivr_hangups"
    IVR_FINISHED = "ivr_finished"
    IVR_CASE_LOOKUPS = "ivr_case_lookups"
    IVR_CASE_TIMEOUTS = "ivr_case_timeouts"
    IVR_CASE_FAILURES = "ivr_case_failures"
    # the hold's position / expected-wait announcements (telephony.announce_agi)
    ANNOUNCEMENTS = "announcements"  # told its place (and expected wait)
    ANNOUNCE_SHORT = "announce_short"  # not told: the expected wait is under min_wait_s
    ANNOUNCE_CALLBACKS = "announce_callbacks"  # pressed 1 during an announcement
    ANNOUNCE_UNKNOWN = "announce_unknown"  # asked for a call the engine does not hold
    # a queue closed (outside hours, a holiday) when the caller reached it (telephony.handoff)
    AFTER_HOURS_CALLS = "after_hours_calls"
    AFTER_HOURS_VOICEMAILS = "after_hours_voicemails"
    AFTER_HOURS_CALLBACKS = "after_hours_callbacks"
    # the emergency broadcast (ivr.broadcast)
    BROADCASTS_SET = "broadcasts_set"
    BROADCASTS_CLEARED = "broadcasts_cleared"
    BROADCASTS_PLAYED = "broadcasts_played"  # callers who heard it (before the menu or queue)
    BROADCAST_PLAY_FAILURES = "broadcast_play_failures"  # Asterisk could not play its file
    # the post-call survey (ivr.survey): asked, rated 1-5, and not rated (hung up,
    # no key, or only keys outside 1-5)
    SURVEYS = "surveys"
    SURVEYS_RATED = "surveys_rated"
    SURVEYS_UNRATED = "surveys_unrated"
    # 回访 follow-up calls (telephony.outbound, serve.followup)
    CALLS_PLACED = "calls_placed"  # callback-type calls Hotline placed itself
    FOLLOWUPS_ASKED = "followups_asked"
    FOLLOWUP_ATTEMPTS = "followup_attempts"  # attempts' calls placed
    FOLLOWUPS_REACHED = "followups_reached"
    FOLLOWUPS_UNREACHED = "followups_unreached"  # out of attempts
    FOLLOWUPS_REFUSED = "followups_refused"
    FOLLOWUP_PLACE_FAILURES = "followup_place_failures"  # the engine refused an attempt
    FOLLOWUP_CRM_FAILURES = "followup_crm_failures"  # the case's history could not be written
    # the CRM link (crm.link) and sticky routing's case owners (crm.case_owner)
    CRM_INTERACTIONS = "crm_interactions"
    CRM_FAILURES = "crm_failures"
    CRM_REJECTED = "crm_rejected"
    CRM_BAD_LINES = "crm_bad_lines"
    CRM_SCREENPOP_FAILURES = "crm_screenpop_failures"
    CRM_VOICEMAIL_CASES = "crm_voicemail_cases"
    # recordings and voicemails on the case (serve.recordings)
    RECORDINGS_LINKED = "recordings_linked"  # a call's file linked to its interaction
    RECORDINGS_UNLINKED = "recordings_unlinked"  # not linked (no spool, a failing CRM)
    RECORDINGS_EXPIRED = "recordings_expired"  # deleted by the retention sweep
    RECORDINGS_DELETED = "recordings_deleted"  # deleted by a supervisor
    RECORDINGS_PLAYED = "recordings_played"  # audio requests served (each audited)
    STICKY_OWNERS = "sticky_owners"
    STICKY_LOOKUP_TIMEOUTS = "sticky_lookup_timeouts"
    STICKY_LOOKUP_FAILURES = "sticky_lookup_failures"
    STICKY_LOOKUP_SKIPPED = "sticky_lookup_skipped"
    CRM_PRIORITIES = "crm_priorities"  # a caller given a priority class by a resident's flag
    # MQTT (serve.mqtt)
    MQTT_PUBLISHED = "mqtt_published"
    MQTT_DROPS = "mqtt_drops"
    MQTT_CONNECTS = "mqtt_connects"
    MQTT_CONNECT_FAILURES = "mqtt_connect_failures"
    MQTT_DISCONNECTS = "mqtt_disconnects"
    # the web push (serve.ws)
    WS_CLIENTS = "ws_clients"  # a gauge: sockets open now
    WS_PUSHES = "ws_pushes"
    WS_DROPPED = "ws_dropped"  # a socket too slow to keep up, closed
    WS_PUSH_FAILURES = "ws_push_failures"
    # security: peers refused (serve.control_auth, telephony.agi)
    CONTROL_REFUSED = "control_refused"  # a local user not serve's own (nor root) on the socket
    AGI_REFUSED = "agi_refused"  # a FastAGI connection without the instance's secret
