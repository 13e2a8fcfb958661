"""Telephony: what speaks Asterisk and SIP and decides nothing.

The routing decisions are the core's (:mod:`acd`); modules here translate. They
do I/O: sockets, processes, files.

- :mod:`telephony.ami_frames` (framing, incremental UTF-8) and
  :mod:`telephony.ami_client` (Hotline's own AMI client: actions with timeouts,
  reconnect), :mod:`telephony.ami_probe` (a blocking log-in check);
- :mod:`telephony.translate` (AMI events → engine events and leg steps),
  :mod:`telephony.legs` (channels ↔ calls; the one table of leg phases),
  :mod:`telephony.shell` (the one way into the engine, effects → AMI actions, the
  engine's timer), :mod:`telephony.resync` (adoption after a reconnect or a
  restart), :mod:`telephony.agi` (FastAGI), :mod:`telephony.handoff` (the queue
  hand-off), :mod:`telephony.notifier` (the one way out: every effect and finished
  call to the subscribers),
  :mod:`telephony.settings` (the dialplan names the shell uses),
  :mod:`telephony.queue_log` (Asterisk's queue_log format, a subscriber);
- :mod:`telephony.asterisk` provisions and runs Asterisk (debootstrap'd root,
  instances, rendered config);
- :mod:`telephony.rig` runs SIPp (residents calling, agent seats) and the demo rig
  on top of :mod:`telephony.asterisk` (never the other way round);
- :mod:`telephony.cli` is ``hotline asterisk``: provisioning, instances and the rig.

``hotline serve`` (:mod:`serve`) composes these with the engine.
"""
