"""Run in a fresh process by test_resource_bounds.py (so its peak RSS is this scenario's alone):
a real gateway (create_app, the product checker) on loopback, N concurrent maximum-size /check
requests whose documents are the costliest markup to parse (empty elements), while /healthz is
polled every 20 ms. Prints one JSON line of measurements."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

from gateway.app import create_app
from gateway.appkeys import CLIENTS_KEY
from gateway.config import load_config
from gateway.wire.budget import BODY_BUDGET_KEY

ORG = "1.2.643.5.1.13.13.12.2.77.7973"


def _kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _body(max_body: int) -> bytes:
    base = {
        "source_system": "mis-alpha",
        "local_uid": "burst",
        "kind": "121",
        "organization_oid": ORG,
        "creation_datetime": "2026-11-20T10:00:00+03:00",
        "document": "",
        "document_mime": "application/xml",
        "signatures": [{"type": "organization", "cms": "MIIC"}],
    }
    room = (max_body - len(json.dumps(base)) - 64) * 3 // 4  # base64 grows by 4/3
    elements = (room - len("<r></r>")) // 4
    document = b"<r>" + b"<a/>" * elements + b"</r>"
    body = json.dumps({**base, "document": base64.b64encode(document).decode()}).encode()
    assert len(body) <= max_body, (len(body), max_body)
    return body


_SENDER = """
import asyncio, json, sys
import aiohttp
sys.path.insert(0, HERE)
from resource_burst import _body

async def send(url, token, max_body, n):
    body = _body(max_body)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        async def one():
            async with session.post(url, data=body, headers=headers) as r:
                await r.read()
                return r.status
        return await asyncio.gather(*(one() for _ in range(n)))

url, token, max_body, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print(json.dumps(asyncio.run(send(url, token, max_body, n))))
""".replace("HERE", repr(str(Path(__file__).resolve().parent)))


async def main(data_dir: str, max_body: int, inflight: int, requests: int) -> dict[str, Any]:
    config = load_config(environ={}).with_overrides(
        storage={"data_dir": data_dir},
        server={"max_body_bytes": max_body, "max_inflight_bytes": inflight, "check_concurrency": 4},
        workers={"enabled": False},
        peers={"remd": {"enabled": False}},
        ui={"enabled": False},
        alerts={"enabled": False},
    )
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    _, token = await app[CLIENTS_KEY].add("mis-alpha", [ORG])
    body = _body(max_body)
    latencies: list[float] = []
    statuses: list[int] = []
    async with ClientSession() as session:
        async with session.get(f"{url}/healthz") as r:
            await r.read()
        idle_rss = _kb("VmRSS")
        done = asyncio.Event()

        async def poll() -> None:
            while not done.is_set():
                started = time.perf_counter()
                async with session.get(f"{url}/healthz") as r:
                    await r.read()
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.02)

        # The burst comes from another process, as it would in production: a sender sharing
        # this event loop would put its own 200 MB of writes in front of /healthz.
        sender = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _SENDER,
            f"{url}/api/v1/check",
            token,
            str(max_body),
            str(requests),
            stdout=asyncio.subprocess.PIPE,
        )
        poller = asyncio.create_task(poll())
        started = time.perf_counter()
        out, _ = await sender.communicate()
        elapsed = time.perf_counter() - started
        statuses.extend(json.loads(out))
        done.set()
        await poller
    budget = app[BODY_BUDGET_KEY]
    await runner.cleanup()
    return {
        "body_bytes": len(body),
        "statuses": sorted(statuses),
        "healthz_max_ms": round(max(latencies) * 1000, 1),
        "healthz_polls": len(latencies),
        "burst_seconds": round(elapsed, 2),
        "idle_rss_kb": idle_rss,
        "peak_rss_kb": _kb("VmHWM"),
        "budget_peak": budget.peak,
        "budget_refused": budget.refused,
    }


if __name__ == "__main__":
    data_dir, max_body, inflight, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(asyncio.run(main(data_dir, max_body, inflight, requests))))
