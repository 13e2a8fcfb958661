"""The demo and load rig: Asterisk, SIPp agent seats and a trickle of SIPp residents.

Reusable pieces for ``make run`` and load tests; ``hotline serve`` (the AMI
shell) is started by its owner between :func:`start_rig` and
:func:`trickle_callers`. Everything is bounded and stops by itself: SIPp runs
with a call count and a time limit, and :meth:`Rig.stop` ends what is left.

    rig = start_rig(load_config("examples/hotline.toml"), seats=5, seed=1)
    callers = trickle_callers(rig, calls=30, rate_per_s=0.5, seed=2)
    ...
    rig.stop()
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from acd.config import AcdConfig
from telephony.asterisk.instance import AsteriskInstance, free_port
from telephony.asterisk.root import Progress, provision
from telephony.asterisk.settings import AsteriskSettings, read_settings
from telephony.rig.sipp import Sipp, agent_rows, resident_rows

__all__ = ["Rig", "start_rig", "trickle_callers"]


@dataclass
class Rig:
    instance: AsteriskInstance
    config: AcdConfig
    settings: AsteriskSettings
    seats: tuple[str, ...]
    agents: Sipp
    callers: list[Sipp] = field(default_factory=list)

    def stop(self) -> None:
        """Stop every SIPp process (removing its work folder), then Asterisk (and
        unmount if it was the last)."""
        for sipp in [*self.callers, self.agents]:
            sipp.close()
        self.instance.stop()


def start_rig(
    cfg: AcdConfig,
    *,
    instance: str = "run",
    seats: int = 5,
    seed: int = 1,
    ring_s: tuple[float, float] = (1.0, 3.0),
    talk_s: tuple[float, float] = (20.0, 60.0),
    max_time_s: float = 3600.0,
    free_ports: bool = False,
    progress: Progress | None = None,
) -> Rig:
    """Start Asterisk with ``seats`` SIPp-answered seats (the first seats of the roster).

    Ring and talk times are drawn uniformly from the given ranges with
    ``random.Random(seed)``; the seats' SIPp answers at most 10,000 calls and
    quits after ``max_time_s``.
    """
    if seats < 1 or seats > len(cfg.agents):
        raise ValueError(f'"seats" must be between 1 and {len(cfg.agents)}, got {seats}')
    chosen = tuple(list(cfg.agents)[:seats])
    uas_port = free_port()
    settings = read_settings(cfg)
    if free_ports:
        settings = dataclasses.replace(
            settings, sip_port=free_port(), ami_port=free_port(), agi_port=free_port()
        )
    settings = dataclasses.replace(
        settings, static_contacts={a: f"sip:{a}@127.0.0.1:{uas_port}" for a in chosen}
    )
    inst = AsteriskInstance(provision(progress), instance)
    inst.start(cfg, settings)
    rnd = random.Random(seed)
    calls = 10_000
    rows = agent_rows(
        (int(rnd.uniform(*ring_s) * 1000), int(rnd.uniform(*talk_s) * 1000)) for _ in range(calls)
    )
    agents = Sipp("agent", local_port=uas_port, calls=calls, rows=rows, max_time_s=max_time_s)
    try:
        agents.start()
    except BaseException:
        inst.stop()
        raise
    return Rig(inst, cfg, settings, chosen, agents)


def trickle_callers(
    rig: Rig,
    *,
    calls: int,
    rate_per_s: float,
    seed: int = 2,
    patience_s: tuple[float, float] = (30.0, 180.0),
    max_time_s: float = 3600.0,
    limit: int | None = None,
    digits: Mapping[str, float] | None = None,
    numbers: Sequence[str] = (),
    dtmf_after_ms: int = 1500,
) -> Sipp:
    """Start ``calls`` resident calls at ``rate_per_s``; each hangs up after a drawn patience.

    ``limit``: at most this many calls at once (SIPp ``-l``; without it SIPp's
    default keeps about one call at a time at low rates, and calls never overlap).
    ``digits``: the IVR key each caller presses ``dtmf_after_ms`` after the answer,
    drawn with these weights (``"none"``: no key). ``numbers``: the callers'
    numbers, drawn from this list (default: unique ``1380000nnnn``).
    """
    if rate_per_s <= 0:
        raise ValueError(f'"rate_per_s" must be > 0, got {rate_per_s}')
    if limit is not None and limit < 1:
        raise ValueError(f'"limit" must be >= 1, got {limit}')
    rnd = random.Random(seed)
    patience = [int(rnd.uniform(*patience_s) * 1000) for _ in range(calls)]
    rows = resident_rows(patience)
    keys, weights = zip(*(digits or {"none": 1.0}).items(), strict=True)
    for row in rows:
        row[1] = rnd.choices(keys, weights)[0]
        row[2] = str(dtmf_after_ms)
        if numbers:
            row[3] = rnd.choice(numbers)
    sipp = Sipp(
        "resident",
        local_ip=rig.settings.trunk_address,
        remote=f"127.0.0.1:{rig.settings.sip_port}",
        calls=calls,
        rate=rate_per_s,
        limit=limit,
        rows=rows,
        max_time_s=max_time_s,
    )
    sipp.start()
    rig.callers.append(sipp)
    return sipp
