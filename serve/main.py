"""``hotline serve``: the production shell, one asyncio process (the composition root).

AMI client + FastAGI hand-off + the routing engine + its timer + the control
API, and with ``[crm]`` / ``[web]`` the CRM link (interactions, screen-pops, the
case owner for sticky routing) and the browser-facing API, wired by hand here,
by constructor: nothing is set on an object after it is built.

- **One way in**: every event reaches the engine through :meth:`CallShell.feed`
  (AMI events, the FastAGI hand-off, the resync, the agent control API).
- **One way out**: the shell publishes every effect it carried out and every
  finished call to one :class:`telephony.notifier.Notifier`, whose subscribers
  are listed in :func:`serve`, in order: the queue_log, the call history
  (``calls.jsonl``), the agent store (``agents.json``), the read model's today's
  figures, the CRM link, the alarm watch, Prometheus, MQTT (with ``[mqtt]``), and
  with ``[web]`` the WebSocket hub of the desk and the wallboard (:mod:`serve.ws`).
  The alarm loop (:mod:`serve.alarm_loop`, once a second) publishes alarm raises
  and clears through the same notifier.
- **One read model** (:class:`serve.read_model.ReadModel`) for ``/status``, the
  offer endpoint and the CRM link's caller look-up.

Each subsystem is an async context manager entered on one
:class:`contextlib.AsyncExitStack`, in start-up order, and left in reverse.
Start-up order matters: agents' presence is restored from the state
directory, then AMI logs in and resynchronises (adopting callers still
holding), and only then is the FastAGI port opened, so no call is routed
before the shell knows which agents can be reached.

SIGTERM / SIGINT stop it cleanly; after a SIGKILL, starting it again adopts the
callers still holding in Asterisk with their original arrival times.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from acd.alarm_config import read_alarms
from acd.calendar import Calendar
from acd.calendar_config import read_calendar
from acd.config import AcdConfig, load_config
from acd.engine import Engine
from acd.followup import read_followup
from agents.control import AgentControl
from agents.presence import AgentStore
from crm.case_owner import CaseOwners
from crm.link import CrmLink
from crm.types import WallClock
from ivr.after_hours import closed_queues
from ivr.agi_driver import IvrDriver
from ivr.announce import read_announce
from ivr.broadcast import BroadcastBoard
from ivr.config import read_ivr
from ivr.survey import SurveyDriver, read_survey
from serve import alarm_loop, mqtt_feed, presence
from serve import crm_link as serve_crm
from serve.admin import RuntimeAdmin
from serve.alarm_loop import AlarmWatch
from serve.control import ControlServer, build_app
from serve.followup import FOLLOWUP_LOG, FOLLOWUP_STATE, FollowupService
from serve.history import CallHistory
from serve.mqtt import MqttPublisher
from serve.mqtt_feed import MqttFeed
from serve.mqtt_settings import read_mqtt
from serve.private import private_state
from serve.prometheus import Metrics
from serve.read_model import ReadModel
from serve.recordings import RecordingLink, read_recordings
from serve.roster_state import FILE as ROSTER_FILE
from serve.roster_state import RosterState
from serve.seats import local_seats
from serve.settings import ServeSettings
from serve.web import WebServer, build_web_app
from serve.web_supervisor import supervisor_router
from serve.ws import Hub
from telephony import ami_actions, handoff_trace
from telephony import door as door_mod
from telephony.after_hours import Closed, DeferredCallbacks
from telephony.agi import FastAgiServer
from telephony.ami_client import AmiClient
from telephony.ami_events import filter_regex
from telephony.ami_frames import AmiMessage
from telephony.announce_agi import Announcer
from telephony.asterisk.render import agi_secret
from telephony.guards import guarding
from telephony.handoff import enqueue_handler
from telephony.notifier import Note, Notifier, Subscriber
from telephony.overload import LoadWatch
from telephony.pending import PendingCalls
from telephony.queue_log import QueueLog
from telephony.shell import CallShell
from telephony.survey import survey_script
from telephony.transfer import Transferrer
from telephony.transfer_config import read_transfer

__all__ = ["serve"]

log = logging.getLogger("hotline.serve")


async def serve(
    config_path: Path,
    settings: ServeSettings,
    stop: asyncio.Event,
    record_ami: Path | None = None,
    spool: Path | None = None,
) -> int:
    """``spool``: Asterisk's spool folder as this host sees it (the instance's), where
    the calls' recordings and voicemails are (:mod:`serve.recordings`)."""
    config = load_config(config_path)
    private_state(settings.state_dir, settings.crm_database)
    clock = WallClock()  # epoch seconds: arrival times survive a restart
    engine = Engine(config, clock)
    stats: Counter[str] = Counter()
    read_model = ReadModel(engine, clock, stats)
    store = AgentStore(settings.agents_file)
    pending = PendingCalls(settings.state_dir / "pending.json", engine.calls)
    mqtt_settings = read_mqtt(config)
    ami = AmiClient(
        settings.ami_host,
        settings.ami_port,
        settings.ami_username,
        settings.ami_secret,
        events=settings.ami_events,
        action_timeout_s=settings.action_timeout_s,
        stats=stats,
        record_to=record_ami,
        filters=(filter_regex(),),  # only the events the shell reads
    )
    calendar = read_calendar(config)  # read once: the alarms' horizon, the closed queues
    watch = AlarmWatch(
        read_alarms(config),
        read_model.centre,
        ami.connected.is_set,
        clock,
        config.metrics,
        calendar=calendar,
    )
    broadcast = BroadcastBoard(settings.broadcast_file, settings.sounds_dir, clock, stats)
    read_model.broadcast_source = broadcast.current  # the wallboard frame shows it
    metrics = Metrics(
        config.queues,
        config.metrics,
        stats=stats,
        view=read_model.centre,
        alarms=watch.active,
        timezone_offset_s=config.timezone_offset_s,
    )
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(ami.close)  # closes the recording even if never run
        try:
            queue_log = stack.enter_context(contextlib.closing(QueueLog(settings.queue_log)))
            link = await stack.enter_async_context(
                serve_crm.running(settings, read_model.caller_of, stats)
            )
            owners = None
            if link is not None and settings.sticky_lookup_s > 0:
                owners = await stack.enter_async_context(
                    CaseOwners(
                        link.repo.cases.caller_facts,
                        engine.agents,  # the live roster (serve.admin)
                        settings.sticky_lookup_s,
                        stats,
                        priorities=config.priorities,
                    )
                )
            subscribers: list[tuple[str, Subscriber]] = [
                ("queue_log", queue_log.notify),
                ("history", CallHistory(settings.history).notify),
                ("pending", pending.notify),  # after the history: a crash between doubles
                ("agents", presence.store_subscriber(store)),
                ("today", read_model.notify),
            ]
            recordings = None
            if link is not None:
                subscribers.append(("crm", serve_crm.subscriber(link)))
                recordings = await stack.enter_async_context(
                    RecordingLink(link.repo, read_recordings(config, spool), stats).running()
                )
                subscribers.append(("recordings", recordings.notify))
            followup_rule = read_followup(config) if link is not None else None
            followups: FollowupService | None = None  # built with the shell, below

            def followup_notify(note: Note) -> None:
                if followups is not None:
                    followups.notify(note)

            if followup_rule is not None:
                subscribers.append(("followup", followup_notify))
            subscribers += [("alarms", watch.notify), ("metrics", metrics.notify)]
            mqtt = None
            if mqtt_settings is not None:
                mqtt = await stack.enter_async_context(MqttPublisher(mqtt_settings, stats))
                subscribers.append(("mqtt", MqttFeed(mqtt, clock).notify))
            hub = None
            if settings.web_port is not None:
                auth = link.repo.users.authenticate if link is not None else None
                hub = Hub(read_model, auth, link, stats, alarms=watch.active)
                subscribers.append(("websockets", hub.notify))
            notifier = Notifier(subscribers, stats=stats)
            shell = CallShell(
                engine, settings.shell, clock, ami, notifier=notifier, resync=True, stats=stats
            )
            stack.callback(shell.stop)  # (again) if start-up fails past this point
            load = shell.load = LoadWatch(settings.overload, stats, on_lag=_check_now(shell))
            shell.trace = handoff_trace.from_environment()  # live_load --breakdown
            if shell.trace is not None:
                stack.callback(shell.trace.close)
            if followup_rule is not None and link is not None:
                followups = FollowupService(
                    followup_rule,
                    shell,
                    link.repo,
                    clock,
                    settings.state_dir / FOLLOWUP_LOG,
                    stats,
                    settings.state_dir / FOLLOWUP_STATE,
                )
                await stack.enter_async_context(followups.running())
            transfers = Transferrer(shell, read_transfer(config))
            shell.observers.append(transfers.observe)
            door = door_mod.install(
                shell, settings.overload, settings.door_journal, settings.door_checkpoint
            )
            strict_feed = functools.partial(shell.feed, strict=True)
            control = AgentControl(engine.agents, strict_feed, read_model.state_of)
            admin = RuntimeAdmin(
                engine.agents,
                config,
                config_path,
                strict_feed,
                settings.state_dir / "admin.jsonl",
                serve_crm.admin_audit(link.repo) if link is not None else None,
                seats=local_seats(settings, ami),
                state=RosterState(settings.state_dir / ROSTER_FILE),
            )
            await admin.restore()  # the roster as the admin left it, before the log-ins
            presence.restore_presence(shell, store, engine.agents)
            web = None
            if settings.web_port is not None:
                wallboard = supervisor_router(
                    read_model, control, strict_feed, shell.spy, alarms=watch.active
                )
                app = build_web_app(
                    read_model,
                    link,
                    control,
                    hub,
                    metrics,
                    wallboard,
                    docs=settings.web_docs,
                    followups=followups,
                    recordings=recordings,
                    admin=admin,
                    transfers=transfers,
                    broadcast=broadcast,
                )
                web = WebServer(
                    app,
                    settings.web_host,
                    settings.web_port,
                    settings.web_certificate,
                    settings.web_key,
                )
        except Exception as e:  # a database that cannot be opened, a port in use
            print(f"hotline serve: {type(e).__name__}: {e}", file=sys.stderr)
            return 2
        ivr_cfg = read_ivr(config)
        ivr = None
        if ivr_cfg is not None and ivr_cfg.enabled:
            lookup = serve_crm.case_status(link.repo) if link is not None else None
            ivr = IvrDriver(ivr_cfg, lookup, stats, before=broadcast.play)
        closed = _closed(config, calendar, settings)
        await broadcast.restore()
        survey = survey_script(SurveyDriver(read_survey(config), stats), notifier, clock)
        agi = FastAgiServer(
            enqueue_handler(
                shell,
                owners.hint if owners is not None else None,
                ivr,
                closed,
                Announcer(read_announce(config), read_model.wait, stats),
                before=broadcast.play,
                scripts={"survey": survey},
            ),
            secret=agi_secret(settings.ami_secret),
            stats=stats,
        )
        first_sync = asyncio.Event()
        wishes = store.wishes()  # asked again once the resync knows who is talking

        async def on_connected() -> None:
            try:
                pending.adopt_wrapups(shell, wishes)  # once: the agents are not offered
                if shell.resyncer is not None:
                    await shell.resyncer.resync("connected")
                await door.open(shell.actions)  # a restart or a reload cleared it
                pending.restore_callbacks(shell)  # once, in their place among the adopted
                presence.restore_wishes(shell, wishes)
            finally:
                first_sync.set()

        if settings.ami_actions_session:  # first: the hand-offs' Originates find it up
            await stack.enter_async_context(ami_actions.session(shell, ami))
        await stack.enter_async_context(ami.running(_fan_out(shell, link), on_connected))
        identity = str(settings.state_dir.resolve())  # names serve's stasis-probe device
        await stack.enter_async_context(guarding(shell, load, door, ami.connected, identity, log))
        if shell.reconciler is not None:
            await stack.enter_async_context(shell.reconciler.running(settings.reconcile_s))
        app = build_app(control, read_model, admin)
        await stack.enter_async_context(ControlServer(app, settings.control_socket, stats))
        if hub is not None:
            await stack.enter_async_context(hub)
        if web is not None:
            await stack.enter_async_context(web)
        if await _first_sync_or_stop(first_sync, stop):
            await admin.seats_follow()
            if followups is not None:
                followups.resume()  # after the pending callbacks came back
            await stack.enter_async_context(alarm_loop.running(watch, notifier.publish))
            if mqtt is not None:
                await stack.enter_async_context(
                    mqtt_feed.snapshots(mqtt, read_model.centre, watch.active)
                )
            if closed is not None:
                await stack.enter_async_context(closed.callbacks.running(shell))
            port = await stack.enter_async_context(
                agi.listening(settings.agi_host, settings.agi_port)
            )
            print(
                f"hotline serve: ready (AMI {settings.ami_host}:{settings.ami_port},"
                f" FastAGI {settings.agi_host}:{port}, control {settings.control_socket}"
                + (f", web {web.scheme}://{web.host}:{web.port}" if web is not None else "")
                + (f", CRM {settings.crm_database}" if settings.crm is not None else "")
                + (f", {settings.event_loop}" if settings.event_loop != "asyncio" else "")
                + (
                    f", MQTT {mqtt_settings.host}:{mqtt_settings.port}"
                    if mqtt_settings is not None
                    else ""
                )
                + ")",
                flush=True,
            )
            # the first thing at a stop: no more AMI actions, those in flight cancelled,
            # so the closing connection fails no offer and nothing reaches the
            # subscribers being closed (a restarted serve adopts what Asterisk holds)
            stack.callback(shell.stop)
            await stop.wait()
    log.info("stopped; counters: %s", dict(stats))
    return 0


def _closed(config: AcdConfig, calendar: Calendar, settings: ServeSettings) -> Closed | None:
    """The calendar's closed queues (None when every queue is always open)."""
    if not closed_queues(config, calendar):
        return None
    path = settings.state_dir / "after-hours.json"
    return Closed(calendar, DeferredCallbacks(calendar, path))


def _fan_out(shell: CallShell, link: CrmLink | None) -> Callable[[AmiMessage], None]:
    """AMI events: all to the shell, and the survey's UserEvent to the CRM link."""
    if link is None:
        return shell.on_ami_event

    def on_event(msg: AmiMessage) -> None:
        shell.on_ami_event(msg)
        link.on_ami_event(msg)

    return on_event


async def _first_sync_or_stop(first_sync: asyncio.Event, stop: asyncio.Event) -> bool:
    """Wait for the first resync after log-in; False if told to stop first."""
    waiter = asyncio.create_task(first_sync.wait())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    stopper.cancel()
    return not stop.is_set()


def _check_now(shell: CallShell) -> Callable[[], None]:
    """AMI runs late: compare the agents with Asterisk's channels now (the answer to
    an action does not wait in Asterisk's event queue), not at the next period."""

    def check() -> None:
        if shell.reconciler is not None:
            shell.spawn(shell.reconciler.check())

    return check
