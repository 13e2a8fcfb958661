"""schemathesis over the OpenAPI of every HTTP API, in-process, with a fixed budget:
every operation as every role (and no one), positive and negative examples, then
the spec's links as a state machine. No answer is a 5xx, and every answer's
status is one the spec describes. The long run: ``python -m benchmarks.fuzz_api``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.api_fuzz import fuzz

# app, examples per operation × role × mode, state-machine runs per role
BUDGETS = [("serve", 2, 4), ("crm", 1, 2), ("control", 5, 0)]


@pytest.mark.parametrize(("app", "examples", "stateful"), BUDGETS)
def test_no_5xx_and_every_answer_described(
    app: str, examples: int, stateful: int, tmp_path: Path
) -> None:
    tally = fuzz(app, examples, tmp_path, seed=11, stateful=stateful)
    assert tally.tried > 0 and (stateful == 0 or tally.stateful > 0)
    assert tally.errors == []
    assert dict(tally.undocumented) == {}, tally.samples
