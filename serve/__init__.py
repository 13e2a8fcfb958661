"""``hotline serve``: one asyncio process, the composition root.

:mod:`serve.main` wires the AMI client, the FastAGI hand-off, the call shell, the
CRM link, the web and control APIs; :mod:`serve.settings` reads ``[serve]``,
``[web]`` and ``[crm]``; :mod:`serve.history` is ``calls.jsonl``;
:mod:`serve.control` the agents' control API on a unix socket; :mod:`serve.web`
the browser-facing API; :mod:`serve.live` is ``hotline live`` (``make run``).
"""
