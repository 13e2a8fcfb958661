"""Telephony shells: the I/O side of Hotline that talks to Asterisk and SIP.

Unlike the rest of ``acd``, modules here do I/O: they start processes
(Asterisk in its private root, SIPp), mount file systems, open sockets and
write files. The pure routing core never imports them.

- :mod:`acd.telephony.asterisk_settings`: the ``[asterisk]`` config section.
- :mod:`acd.telephony.asterisk_render`: Asterisk's config files, rendered from
  the templates in ``asterisk-conf/`` and the same TOML the engine reads.
- :mod:`acd.telephony.asterisk_root`: where Asterisk lives (an installed one, or
  a private debootstrap'd root built once into a cache folder), and its mounts.
- :mod:`acd.telephony.asterisk_instance`: one running Asterisk with its own
  directories and ports; several can run at once from one root.
- :mod:`acd.telephony.asterisk_cli`: ``hotline asterisk provision|start|stop|status``.
- :mod:`acd.telephony.sipp`: SIPp processes (residents calling, agent seats).
"""
