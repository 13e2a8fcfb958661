"""Fakes the tests drive the production code with (no sockets, no Asterisk)."""
