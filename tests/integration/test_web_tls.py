"""TLS on the web port: with ``[web] certificate`` and ``key`` the browser API speaks
https only. A self-signed certificate made by the test with ``openssl``; loopback."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections import Counter
from pathlib import Path

import httpx
import pytest

from acd import Engine, load_config
from acd.types import FakeClock
from serve.read_model import ReadModel
from serve.web import WebServer, build_web_app

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).parents[2] / "examples" / "hotline.toml"


def _self_signed(d: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert, key = d / "web.crt", d / "web.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_web_port_speaks_tls_only(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    clock = FakeClock(1_000.0)
    model = ReadModel(Engine(load_config(CONFIG), clock), clock, Counter())
    web = WebServer(build_web_app(model, None), "127.0.0.1", 0, cert, key)
    assert web.scheme == "https"
    async with web:
        trust = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(verify=trust, timeout=10) as c:
            r = await c.get(f"https://127.0.0.1:{web.port}/api/agents/2001/offer")
            assert r.status_code == 200 and r.json()["offer"] is None
        async with httpx.AsyncClient(timeout=10) as plain:
            with pytest.raises(httpx.HTTPError):
                await plain.get(f"http://127.0.0.1:{web.port}/api/agents/2001/offer")
        async with httpx.AsyncClient(timeout=10) as untrusting:  # the cert is checked
            with pytest.raises(httpx.ConnectError):
                await untrusting.get(f"https://127.0.0.1:{web.port}/api/agents/2001/offer")
