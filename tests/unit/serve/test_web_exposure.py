"""What the web port shows to whoever reaches it: before, ``/docs``, ``/redoc`` and
``/openapi.json`` described every endpoint to anyone. Now they are served only with
``[web] docs = true`` (development). TLS is configured by a certificate and a key
(both, existing files); without TLS the web API stays on loopback."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from acd import Engine, load_config
from acd.config import ConfigError, parse_config
from acd.types import FakeClock
from crm.api import create_app
from serve.read_model import ReadModel
from serve.settings import read_settings
from serve.web import build_web_app
from tests.unit.telephony.test_asterisk_settings import BASE

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
DOCS = ("/docs", "/redoc", "/openapi.json")


async def _codes(app: object) -> list[int]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as c:
        return [(await c.get(path)).status_code for path in DOCS]


async def test_docs_off_unless_asked_for() -> None:
    clock = FakeClock(1_000.0)
    model = ReadModel(Engine(load_config(CONFIG), clock), clock, Counter())
    assert await _codes(build_web_app(model, None)) == [404, 404, 404]
    assert await _codes(build_web_app(model, None, docs=True)) == [200, 200, 200]
    assert await _codes(create_app(":memory:")) == [404, 404, 404]  # hotline crm serve
    assert build_web_app(model, None).openapi()["paths"]  # still built, for the tests


def test_docs_and_tls_settings(tmp_path: Path) -> None:
    plain = read_settings(parse_config({**BASE, "web": {"port": 0}}))
    assert not plain.web_docs and plain.web_certificate is None
    dev = read_settings(parse_config({**BASE, "web": {"docs": True}}))
    assert dev.web_docs
    cert, key = tmp_path / "web.crt", tmp_path / "web.key"
    cert.write_text("x")
    key.write_text("x")
    with pytest.raises(ConfigError, match=r"web\.key: TLS needs both certificate and key"):
        read_settings(parse_config({**BASE, "web": {"certificate": str(cert)}}))
    with pytest.raises(ConfigError, match=r"web\.key: no such file"):
        read_settings(
            parse_config({**BASE, "web": {"certificate": str(cert), "key": "/nonexistent"}})
        )
    tls = {"certificate": str(cert), "key": str(key), "host": "0.0.0.0"}
    with pytest.raises(ConfigError, match=r"web\.host: expected a loopback address"):
        read_settings(parse_config({**BASE, "web": tls}))  # TLS, but no log-in (no CRM)
    on = read_settings(parse_config({**BASE, "web": tls, "crm": {}}))
    assert (on.web_host, on.web_certificate, on.web_key) == ("0.0.0.0", cert, key)
