from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from acd.config_reader import ConfigError, Table
from crm.outbox import HttpSmsSender, Message, SendError
from crm.settings import parse_settings


def test_crm_section_is_read_strictly() -> None:
    s = parse_settings(
        Table(
            {
                "sender": "http",
                "sms_url": "http://127.0.0.1:9/send",
                "categories": {
                    "repair": {"resolve_days": 2},
                    "pets": {"department": "agri", "resolve_days": 7},
                },
            },
            "crm",
        )
    )
    assert (
        s.categories["repair"].resolve_days == 2 and s.categories["repair"].department == "housing"
    )
    assert s.categories["pets"].department == "agri" and s.categories["pets"].response_days == 1
    assert s.calendar.is_working_day(dt.date(2026, 10, 9))  # the default calendar
    assert s.durability == "full"
    assert (s.reader_cache_mib, s.mmap_mib, s.prewarm) == (1024, 2048, True)


def test_the_reader_cache_mmap_and_prewarm_are_settings() -> None:
    s = parse_settings(Table({"reader_cache_mib": 64, "mmap_mib": 0, "prewarm": False}, "crm"))
    assert (s.reader_cache_mib, s.mmap_mib, s.prewarm) == (64, 0, False)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"sender": "pigeon"}, "crm.sender"),
        ({"sender": "http"}, "crm.sms_url"),
        ({"holidays": ["2026-10-01"]}, "crm.holidays"),  # moved to [calendar]
        ({"timezone": "Asia/Shanghai"}, "crm.timezone"),
        ({"categories": {"pets": {"resolve_days": 3}}}, "crm.categories.pets.department"),
        ({"categories": {"repair": {"resolve_dayz": 3}}}, "crm.categories.repair.resolve_dayz"),
        ({"max_body_bytes": 10}, "crm.max_body_bytes"),
        ({"reader_cache_mib": 0}, "crm.reader_cache_mib"),
        ({"reader_cache_mib": "2GiB"}, "crm.reader_cache_mib"),
        ({"prewarm": "yes"}, "crm.prewarm"),
        ({"mmap_mib": -1}, "crm.mmap_mib"),
        ({"colour": "red"}, "crm.colour"),
    ],
)
def test_bad_crm_settings_name_the_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_settings(Table(data, "crm"))
    assert e.value.key == key, str(e.value)


class Gateway(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    got: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.got.append(json.loads(body))
        self.send_response(Gateway.answers.pop(0))
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/send"
    server.shutdown()
    server.server_close()
    t.join()


async def test_http_sender_posts_json_and_reports_failures(gateway: str) -> None:
    Gateway.answers[:] = [503, 200]
    Gateway.got.clear()
    sender = HttpSmsSender(gateway, timeout_s=5)
    msg = Message(7, "sms", "13800138000", "您的工单已办结", 1)
    with pytest.raises(SendError, match="gateway answered 503"):
        await sender.send(msg)
    await sender.send(msg)
    assert Gateway.got[-1] == {"id": 7, "to": "13800138000", "text": "您的工单已办结"}
