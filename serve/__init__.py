"""``hotline serve``: one asyncio process, the composition root.

:mod:`serve.main` wires the AMI client, the FastAGI hand-off, the call shell and
its notifier's subscribers, the CRM link, the web and control APIs;
:mod:`serve.settings` reads ``[serve]``, ``[web]`` and ``[crm]``;
:mod:`serve.read_model` is the one read model every view reads;
:mod:`serve.history` is ``calls.jsonl``; :mod:`serve.crm_link` opens the CRM link
(:mod:`crm.link`); :mod:`serve.control` the agents' control API on a unix socket
(over :mod:`agents.control`); :mod:`serve.web` the browser-facing API;
:mod:`serve.live` is ``hotline live`` (``make run``).
"""
