"""Helpers for ``hotline serve`` with the IVR on, against real Asterisk and SIPp.

- :func:`ivr_config`: the serve test config with the IVR on, a short menu (2 s
  timeout, one retry) and a short greeting, so a silent caller hears it once
  before the default queue.
- :func:`keying_scenario` / :func:`keyed_call`: a SIPp resident pressing several
  keys (SIP INFO) at set times, where the rig's resident presses at most one.
"""

from __future__ import annotations

import re
from pathlib import Path

from telephony.rig.sipp import Sipp, resident_rows
from tests.integration.serve_fixtures import SAFE_SIPP_ARGS, ServeRig, _test_config, edited

IVR_ON = (
    ("\nenabled = false", "\nenabled = true"),
    ("\ntimeout_s = 5 ", "\ntimeout_s = 2 "),
    ("\nmax_retries = 3 ", "\nmax_retries = 1 "),
)


def ivr_config(tmp: Path) -> Path:
    """The serve test config in ``tmp`` with the IVR on (:data:`IVR_ON`) and a short
    greeting."""
    path = _test_config(tmp)
    text = edited(path.read_text(encoding="utf-8"), IVR_ON)
    text, n = re.subn(
        r'greeting = \{ mandarin = "您好[^"]*"', 'greeting = { mandarin = "您好，请选择。"', text
    )
    assert n == 1
    path.write_text(text, encoding="utf-8")
    return path


def keying_scenario(base: Path, keys: list[tuple[int, str]], out: Path) -> Path:
    """The resident scenario with one SIP INFO per ``(ms after the previous, key)``."""
    text = base.read_text(encoding="utf-8")
    nop = '<nop test="no_dtmf" next="wait"/>'
    start = text.index(nop) + len(nop)
    end = text.index("<!-- Wait for the far end's BYE")
    info_start = text.index('<send retrans="500">', start)
    info_end = text.index("</recv>", info_start) + len("</recv>")
    info = text[info_start:info_end]
    blocks = []
    for i, (after_ms, key) in enumerate(keys):
        block = info.replace("CSeq: 2 INFO", f"CSeq: {i + 2} INFO").replace("[$digit]", key)
        # the first pause is the row's dtmf_after_ms (SIPp refuses unused variables)
        pause = 'variable="dtmf_after"' if i == 0 else f'milliseconds="{after_ms}"'
        blocks.append(f"<pause {pause}/>\n{block}")
    text = text[:start] + "\n".join(blocks) + "\n" + text[end:]
    text = text.replace("CSeq: 3 BYE", f"CSeq: {len(keys) + 2} BYE")
    out.write_text(text, encoding="utf-8")
    return out


def keyed_call(
    rig: ServeRig,
    out: Path,
    caller: str,
    keys: list[tuple[int, str]],
    patience_ms: int,
    max_time_s: float = 60,
) -> Sipp:
    """One resident on the trunk calling from ``caller`` who presses ``keys`` (see
    :func:`keying_scenario`, written to ``out``) and hangs up after ``patience_ms``."""
    return Sipp(
        keying_scenario(rig.scenarios["resident"], keys, out),
        local_ip=rig.asterisk.settings.trunk_address,
        remote=rig.asterisk.sip_target,
        rows=resident_rows([patience_ms], keys[0][1], keys[0][0], caller=caller),
        max_time_s=max_time_s,
        extra=SAFE_SIPP_ARGS,
    )
