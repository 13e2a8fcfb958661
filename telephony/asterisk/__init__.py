"""Asterisk for Hotline: where it lives, its rendered configuration, running instances.

- :mod:`telephony.asterisk.settings`: the ``[asterisk]`` config section.
- :mod:`telephony.asterisk.render`: Asterisk's config files, rendered from the
  templates in ``asterisk-conf/`` and the same TOML the engine reads.
- :mod:`telephony.asterisk.root`: an installed Asterisk, or a private debootstrap'd
  root built once into a cache folder, and its mounts.
- :mod:`telephony.asterisk.instance`: one running Asterisk with its own directories
  and ports; several can run at once from one root.
"""
