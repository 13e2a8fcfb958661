"""The JSON state file of rows by call id (pending calls, deferred callbacks)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.state_file import read_rows, write_rows

ROW = {"queue": "general", "number": "13800138000", "language": "mandarin"}


def test_rows_written_are_read_back_and_no_tmp_is_left(tmp_path: Path) -> None:
    path = tmp_path / "state" / "rows.json"  # its folder made on the first write
    write_rows(path, {"1.1": ROW, "1.2": {"note": "停水"}})
    assert read_rows(path, "nothing") == {"1.1": ROW, "1.2": {"note": "停水"}}
    assert "停水" in path.read_text(encoding="utf-8")  # kept readable, not escaped
    assert [p.name for p in path.parent.iterdir()] == ["rows.json"]


def test_no_path_is_memory_only_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    write_rows(None, {"1.1": ROW})
    assert read_rows(None, "nothing") == {}
    assert read_rows(tmp_path / "absent.json", "nothing") == {}


@pytest.mark.parametrize(
    ("text", "why"), [("{not json", "Expecting"), ('["a list"]', "not a JSON object")]
)
def test_an_unreadable_file_says_what_is_not_restored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, why: str
) -> None:
    path = tmp_path / "rows.json"
    path.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert read_rows(path, "no callbacks restored") == {}
    assert why in caplog.text and "no callbacks restored" in caplog.text
    assert path.read_text(encoding="utf-8") == text  # left for the operator to look at


def test_values_that_are_not_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text('{"1.1": {"a": 1}, "1.2": 7, "1.3": null}', encoding="utf-8")
    assert read_rows(path, "nothing") == {"1.1": {"a": 1}}


@given(
    st.dictionaries(
        st.text(min_size=1),
        st.dictionaries(st.text(), st.one_of(st.none(), st.integers(), st.text())),
    )
)
def test_any_rows_round_trip(rows: dict[str, dict[str, object]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rows.json"
        write_rows(path, rows)  # type: ignore[arg-type]
        assert read_rows(path, "nothing") == rows
