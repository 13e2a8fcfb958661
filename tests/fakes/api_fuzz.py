"""schemathesis over one of :data:`tests.fakes.api_world.APPS`, every operation of
its OpenAPI, as every role (and no one), positive and negative examples; then its
links as a state machine. Counts requests and collects every 5xx answer."""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.fakes.api_world import (
    APPS,
    KNOWN,
    KNOWN_BODY,
    PASSWORD,
    RANGES,
    ROLES,
    SPEC_PATH,
    World,
    token_headers,
)

__all__ = ["Tally", "fuzz"]


@dataclasses.dataclass
class Tally:
    tried: int = 0
    stateful: int = 0  # of which in the links' state machine
    statuses: Counter[int] = dataclasses.field(default_factory=Counter)
    errors: list[str] = dataclasses.field(default_factory=list)  # one line per 5xx
    # answers whose status the operation's spec does not describe: (status, "METHOD path")
    undocumented: Counter[tuple[int, str]] = dataclasses.field(default_factory=Counter)
    samples: dict[tuple[int, str], str] = dataclasses.field(default_factory=dict)

    def count(self, case: Any, role: str, response: Any) -> None:
        self.tried += 1
        self.stateful += role.endswith("(stateful)")
        status = 500 if isinstance(response, Exception) else response.status_code
        self.statuses[status] += 1
        documented = case.operation.definition.raw.get("responses", {})
        if str(status) not in documented and "default" not in documented:
            key = (status, f"{case.method} {case.path}")
            self.undocumented[key] += 1
            text = "" if isinstance(response, Exception) else response.text
            self.samples.setdefault(key, f"{case.formatted_path} {case.query!r}: {text:.200}")
        if status >= 500:
            why = f"{type(response).__name__}: {response}" if status == 500 else ""
            self.errors.append(
                f"{status} {case.method} {case.formatted_path} as {role}: {why:.200} "
                f"query={case.query!r} body={getattr(case, 'body', None)!r:.300}"
            )

    def call(self, case: Any, role: str, headers: dict[str, Any]) -> None:
        """The in-process client raises the app's exceptions: each is a 500."""
        try:
            response: Any = case.call(headers=headers)
        except Exception as e:
            response = e
        self.count(case, role, response)


def fuzz(
    app_name: str, examples: int, workdir: Path, *, seed: int = 11, stateful: int = 0
) -> Tally:
    """``examples`` per operation, role and mode; ``stateful``: state machine runs per
    role; the app's files (its CRM database) in ``workdir``."""
    world = World(APPS[app_name], workdir)
    schema = schemathesis.openapi.from_asgi(SPEC_PATH, world)
    schema.hooks.register_hook_with_name(_real_data, "flatmap_case")
    tally = Tally()
    base = hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    for result in schema.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for role in list(world.tokens):
                _one(op.as_strategy(generation_mode=mode), base, seed, tally, world, role)
    if stateful:
        _stateful(schema, world, tally, stateful, seed)
    return tally


_HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=24)


def _real_data(context: Any, case: Any) -> Any:
    """Most cases get the path parameters and body fields the world has records for
    (:data:`KNOWN`: an agent, a recording; :data:`KNOWN_BODY`: the waiting call, a
    broadcast's expiry), the recordings' audio a Range header (a real one or any text)."""
    params = case.path_parameters or {}
    swap = {k: st.sampled_from(v) for k, v in KNOWN.items() if k in params}
    body = case.body if isinstance(case.body, dict) else {}
    fields = {k: st.sampled_from(v) for k, v in KNOWN_BODY.items() if k in body}
    ranged = case.operation.path.endswith("/audio")
    if not swap and not fields and not ranged:
        return st.just(case)

    def apply(drawn: tuple[bool, dict[str, Any], dict[str, Any], str | None]) -> Any:
        known, values, known_fields, span = drawn
        if known:
            case.path_parameters = {**params, **values}
            if fields:
                case.body = {**body, **known_fields}
        if ranged and span is not None:
            case.headers = {**(case.headers or {}), "Range": span}
        return case

    # the simplest draw (each run's first) is the known record with a real range
    spans = st.one_of(st.sampled_from(RANGES), st.none(), _HEADER_TEXT.map("bytes=".__add__))
    known = st.sampled_from([True, False])
    drawn = st.tuples(known, st.fixed_dictionaries(swap), st.fixed_dictionaries(fields), spans)
    return drawn.map(apply)


def _one(
    strategy: Any, base: hypothesis.settings, seed: int, tally: Tally, world: World, role: str
) -> None:
    @base
    @hypothesis.seed(seed)
    @given(case=strategy)
    def run(case: Any) -> None:
        tally.call(case, role, token_headers(world.tokens[role]))
        _relogin(case, world, role)

    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()


def _relogin(case: Any, world: World, role: str) -> None:
    """A fuzzed log-out ended the role's session: log in again for the next cases."""
    if not case.path.endswith("/logout") or world.tokens.get(role) is None:
        return
    name = next(n for n, r, _, _ in ROLES if r.value == role)
    world.unlock()
    login = case.operation.schema["/api/crm/login"]["POST"]
    r = login.Case(body={"name": name, "password": PASSWORD}, media_type="application/json").call()
    assert "token" in r.json(), f"{role} cannot log in again: {r.status_code} {r.text}"
    world.tokens[role] = r.json()["token"]


def _stateful(schema: Any, world: World, tally: Tally, runs: int, seed: int) -> None:
    """The spec's links as a state machine (create a resident or a case, then read,
    change and act on it), once per role."""
    for role in [r for r, t in world.tokens.items() if t is not None]:
        machine = _machine(schema.as_state_machine(), world, tally, role)
        with contextlib.suppress(Exception):  # a 500 is counted; a failing run stops here
            machine.run(
                settings=hypothesis.settings(
                    max_examples=runs,
                    deadline=None,
                    database=None,
                    stateful_step_count=8,
                    suppress_health_check=list(HealthCheck),
                )
            )


def _machine(base: Any, world: World, tally: Tally, role: str) -> Any:
    class Roled(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": token_headers(world.tokens[role])}

        def call(self, case: Any, **kwargs: Any) -> Any:
            try:
                return case.call(**kwargs)
            except Exception as e:  # the app's exception: a 500
                tally.count(case, f"{role} (stateful)", e)
                raise

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            tally.count(case, f"{role} (stateful)", response)
            _relogin(case, world, role)

    return Roled
