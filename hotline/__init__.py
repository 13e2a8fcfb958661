"""The ``hotline`` command: :mod:`hotline.cli` is the table of subcommands."""
