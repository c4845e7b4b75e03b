#!/usr/bin/env python3
"""Fuzz every entry point of a running sandbox gateway, from outside, as an attacker would.

Starts `mse-gateway sandbox` as its own process (gateway + twins, fresh data directory), then sends
``--cases`` hostile requests, spread over every entry point that takes bytes from outside:

- REST: ``POST /api/v1/submissions`` and ``/api/v1/check`` (mutated valid submissions and hostile
  JSON: deep nesting, huge integers, lone surrogates, NUL bytes, wrong types, Content-Types),
  ``GET /api/v1/submissions`` with hostile query strings and ids;
- SOAP: the REMD front door ``/remd/service`` (authenticated as the sandbox client) and the peer
  endpoints ``/remd/callback`` and ``/remd/getDocumentFile`` — mutated valid envelopes (byte
  flips, truncation, DOCTYPE/entity payloads, deep nesting, SOAP 1.1, bad encodings, ...);
- the UI sign-in form.

Mutations are drawn from a seeded ``random.Random``: a run is reproducible with its ``--seed``, and
a failing case is reported with its index. With ``--rest-examples N`` it also runs schemathesis
(``--checks all``) against the served OpenAPI document.

Counted: responses by status; any 5xx; hangs (no answer within ``--timeout``); whether the process
died; its peak RSS (VmHWM). Exit 1 if any 5xx, hang or crash. ``--json`` prints the summary as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.remd import codec  # noqa: E402
from adapters.remd.messages import (  # noqa: E402
    DocumentFile,
    GetDocumentFileRequest,
    Patient,
    RegisterDocumentRequest,
    RegisterDocumentResult,
    SignatureData,
)
from adapters.remd.soap import Addressing, build_envelope  # noqa: E402
from gateway.bench.process import GatewayProcess, gateway_env  # noqa: E402
from gateway.sandbox.twins import free_port  # noqa: E402

ORG = "1.2.643.5.1.13.13.12.2.77.7970"
SOAP12 = "application/soap+xml; charset=utf-8"


# ---------------------------------------------------------------------------------- seeds


def _front_door_seed() -> bytes:
    req = RegisterDocumentRequest(
        local_uid=str(uuid.uuid4()),
        kind="121",
        organization=ORG,
        creation_datetime=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        document=DocumentFile.of(b"<ClinicalDocument xmlns='urn:hl7-org:v3'><id root='1'/></ClinicalDocument>"),
        department="1.2.3",
        document_number="088-1",
        patient=Patient(snils="11223344595"),
        org_signature=SignatureData.of(b"0\x82\x01\x00" + bytes(64)),
    )
    body = codec.build_register_document_request(req)
    return build_envelope(
        body,
        addressing=Addressing(message_id=str(uuid.uuid4()), action="registerDocument", reply_to=None),
        client_entity_id="sandbox-mis-entity",
    )


def _callback_seed() -> bytes:
    result = RegisterDocumentResult(
        relates_to_message=str(uuid.uuid4()),
        success=False,
        kind="121",
        organization=ORG,
        local_uid=str(uuid.uuid4()),
        errors=(("INTERNAL_ERROR", "x"),),
    )
    return build_envelope(
        codec.build_register_document_result(result),
        addressing=Addressing(message_id=str(uuid.uuid4()), action="sendRegisterDocumentResult"),
    )


def _get_file_seed() -> bytes:
    req = GetDocumentFileRequest(str(uuid.uuid4()), ORG, "121")
    return build_envelope(
        codec.build_get_document_file_request(req),
        addressing=Addressing(message_id=str(uuid.uuid4()), action="getDocumentFile"),
    )


def _submission_seed() -> dict[str, Any]:
    return {
        "source_system": "sandbox-mis",
        "local_uid": str(uuid.uuid4()),
        "kind": "121",
        "organization_oid": ORG,
        "creation_datetime": "2026-11-20T10:00:00+03:00",
        "patient": {"snils": "112-233-445 95"},
        "document": base64.b64encode(b"<ClinicalDocument/>").decode(),
        "document_mime": "application/xml",
        "signatures": [{"type": "organization", "cms": "MIIB"}],
    }


# ---------------------------------------------------------------------------------- XML mutations

_XML_PAYLOADS = [
    b'<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE e SYSTEM "file:///etc/shadow">',
    b'<!DOCTYPE e [<!ENTITY % p SYSTEM "file:///nonexistent/secret.key"> %p;]>',
    b'<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    b'<!DOCTYPE e PUBLIC "-//X//Y" "http://127.0.0.1:9/x.dtd">',
]


def _xml_mutations() -> list[Callable[[random.Random, bytes], bytes]]:
    def flip(r: random.Random, d: bytes) -> bytes:
        b = bytearray(d)
        for _ in range(r.randint(1, 8)):
            b[r.randrange(len(b))] = r.randrange(256)
        return bytes(b)

    def truncate(r: random.Random, d: bytes) -> bytes:
        return d[: r.randrange(len(d))]

    def doctype(r: random.Random, d: bytes) -> bytes:
        payload = r.choice(_XML_PAYLOADS)
        head, sep, rest = d.partition(b"?>")
        return head + sep + payload + rest if sep else payload + d

    def entity_ref(r: random.Random, d: bytes) -> bytes:
        at = d.find(b"</", r.randrange(len(d)))
        return d[:at] + r.choice([b"&x;", b"&c;", b"&#0;", b"&#xD800;", b"&#x1;", b"&amp"]) + d[at:] if at > 0 else d

    def deep(r: random.Random, d: bytes) -> bytes:
        n = r.choice([100, 1000, 10000, 100000])
        return b"<a>" * n + b"</a>" * n

    def many_attributes(r: random.Random, d: bytes) -> bytes:
        attrs = b" ".join(b"a%d='%s'" % (i, b"x" * r.randint(0, 50)) for i in range(r.choice([10, 1000, 20000])))
        return d.replace(b"<soap:Body", b"<soap:Body " + attrs, 1)

    def duplicate_attribute(r: random.Random, d: bytes) -> bytes:
        return d.replace(b"<soap:Envelope", b"<soap:Envelope a='1' a='2'", 1)

    def soap11(r: random.Random, d: bytes) -> bytes:
        return d.replace(b"http://www.w3.org/2003/05/soap-envelope", b"http://schemas.xmlsoap.org/soap/envelope/")

    def namespace(r: random.Random, d: bytes) -> bytes:
        return d.replace(b"http://www.w3.org/2003/05/soap-envelope", b"urn:x-" + str(r.random()).encode())

    def text_noise(r: random.Random, d: bytes) -> bytes:
        at = d.find(b"</", r.randrange(len(d)))
        noise = r.choice(
            [b"\x00", b"\xed\xa0\x80", b"\xff\xfe", b"\x1b[31m", "\u202e\ufeff".encode(), b"]]>", b"<![CDATA[x]]>"]
        )
        return d[:at] + noise * r.randint(1, 50) + d[at:] if at > 0 else d

    def encoding(r: random.Random, d: bytes) -> bytes:
        choice = r.randrange(4)
        if choice == 0:
            return d.replace(b"encoding='UTF-8'", b"encoding='UTF-16'").replace(
                b'encoding="UTF-8"', b'encoding="UTF-16"'
            )
        if choice == 1:
            return b"\xff\xfe" + d
        if choice == 2:
            return d.decode("utf-8", "replace").encode("utf-16")
        return d.replace(b"UTF-8", b"x-unknown-charset")

    def empty_body(r: random.Random, d: bytes) -> bytes:
        start, end = d.find(b"<soap:Body"), d.find(b"</soap:Body>")
        return d[: d.find(b">", start) + 1] + d[end:] if 0 < start < end else b""

    def pi_comment(r: random.Random, d: bytes) -> bytes:
        at = d.find(b">", r.randrange(len(d)))
        return (
            d[: at + 1]
            + r.choice([b"<?xml-stylesheet href='file:///etc/passwd'?>", b"<!-- -- -->", b"<?x?>"])
            + d[at + 1 :]
        )

    def big_text(r: random.Random, d: bytes) -> bytes:
        at = d.find(b"</", r.randrange(len(d)))
        return d[:at] + b"A" * r.choice([10_000, 1_000_000, 5_000_000]) + d[at:] if at > 0 else d

    def garbage(r: random.Random, d: bytes) -> bytes:
        return r.randbytes(r.randint(0, 4096))

    return [
        flip, truncate, doctype, entity_ref, deep, many_attributes, duplicate_attribute, soap11, namespace,
        text_noise, encoding, empty_body, pi_comment, big_text, garbage,
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- JSON mutations


def _json_case(r: random.Random) -> tuple[bytes, str]:
    """A hostile body for the REST API and the Content-Type it is sent with."""
    seed = _submission_seed()
    kind = r.randrange(12)
    ctype = "application/json"
    if kind == 0:
        n = r.choice([1000, 100_000])
        return b"[" * n + b"]" * n, ctype
    if kind == 1:  # a huge integer literal (json.dumps cannot write one of 5,000 digits)
        digits = b"9" * r.choice([50, 5000])
        return json.dumps(seed).encode().replace(b'"kind": "121"', b'"kind": ' + digits), ctype
    elif kind == 2:
        return json.dumps(seed).replace('"121"', '"\\ud800"').encode(), ctype
    elif kind == 3:
        field = r.choice(["local_uid", "organization_oid", "source_system", "callback_url", "document_number"])
        seed[field] = "a\x00b"
    elif kind == 4:
        seed["creation_datetime"] = r.choice(
            ["2026-11-20t10:00:00z", "99999-01-01T00:00:00Z", "0000-00-00T00:00:00Z", "2026-11-20T10:00:00+99:99"]
        )
    elif kind == 5:
        field = r.choice(list(seed))
        seed[field] = r.choice([None, 1, 1.5e308, [], {}, True, "x" * 100_000])
    elif kind == 6:
        seed["department"] = "dep\x01\x0b\ufffe"
        seed["signatures"] = [{"type": "personal", "cms": "MIIB", "signer": {"local_id": "x\x00", "role": "?"}}]
    elif kind == 7:
        ctype = r.choice(["text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=latin-1"])
    elif kind == 8:
        return r.randbytes(r.randint(0, 2048)), ctype
    elif kind == 9:
        return json.dumps(seed).encode()[: r.randint(0, 200)], ctype
    elif kind == 10:
        seed["document"] = "!!!not base64!!!"
    else:
        seed["callback_url"] = r.choice(["http://127.0.0.1:1/x", "file:///etc/passwd", "http://[::1]/", "ht!tp://"])
    return json.dumps(seed).encode(), ctype


_QUERIES = [
    "?since=99999-01-01T00:00:00Z",
    "?since=2026-13-45",
    "?cursor=%00",
    "?cursor=",
    "?cursor=" + "A" * 5000,
    "?limit=-1",
    "?limit=99999999999999999999",
    "?state=%00",
    "?since=1e309",
    "?local_uid=%ED%A0%80",
]


# ---------------------------------------------------------------------------------- the run


def _rss_peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def run(cases: int, seed: int, hang_after: float, rest_examples: int, keep: bool) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="mse-fuzz-"))
    port = free_port()
    env = gateway_env({"GATEWAY_LOGGING__LEVEL": '"warning"'})
    proc = GatewayProcess(data_dir, port, env, command="sandbox")
    await proc.start(ready_timeout=120)
    assert proc.proc is not None
    token = json.loads((data_dir / "sandbox-client.json").read_text())["token"]
    base = proc.url
    r = random.Random(seed)
    mutations = _xml_mutations()
    seeds = {
        "/remd/service": _front_door_seed(),
        "/remd/callback": _callback_seed(),
        "/remd/getDocumentFile": _get_file_seed(),
    }
    statuses: Counter[str] = Counter()
    by_target: Counter[str] = Counter()
    server_errors: list[dict[str, Any]] = []
    hangs: list[dict[str, Any]] = []
    started = time.monotonic()
    client_timeout = aiohttp.ClientTimeout(total=hang_after)
    async with aiohttp.ClientSession(timeout=client_timeout) as http:
        for index in range(cases):
            pick = r.random()
            headers: dict[str, str] = {}
            method = "POST"
            if pick < 0.55:
                target = r.choice(list(seeds))
                data = r.choice(mutations)(r, seeds[target])
                if r.random() < 0.2:  # mutations stack
                    data = r.choice(mutations)(r, data or seeds[target])
                headers["Content-Type"] = SOAP12 if r.random() < 0.9 else r.choice(["text/xml", "", "application/json"])
                if target == "/remd/service":
                    headers["X-MSE-Token"] = token
                url = base + target
            elif pick < 0.85:
                target = r.choice(["/api/v1/submissions", "/api/v1/check"])
                data, ctype = _json_case(r)
                if ctype:
                    headers["Content-Type"] = ctype
                headers["Authorization"] = f"Bearer {token}"
                url = base + target
            elif pick < 0.95:
                method = "GET"
                target = "/api/v1/submissions"
                suffix = (
                    r.choice(_QUERIES) if r.random() < 0.7 else "/" + r.choice(["%00", "..%2F..%2Fetc", "x" * 3000])
                )
                headers["Authorization"] = f"Bearer {token}"
                url, data = base + target + suffix, b""
            else:
                target = "/ui/login"
                user = r.choice(["admin\x00", "a" * 10_000, "\ud800", "' OR 1=1 --", "operator"])
                data = f"username={user}&password={'p' * r.randint(0, 5000)}".encode("utf-8", "surrogatepass")
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                url = base + target
            by_target[target] += 1
            try:
                async with http.request(method, url, data=data, headers=headers, allow_redirects=False) as resp:
                    await resp.read()
                    statuses[str(resp.status)] += 1
                    if resp.status >= 500:
                        server_errors.append({"case": index, "target": target, "status": resp.status})
            except TimeoutError:
                hangs.append({"case": index, "target": target})
                statuses["timeout"] += 1
            except aiohttp.ClientError as exc:
                statuses[type(exc).__name__] += 1
            if proc.proc.poll() is not None:
                break
    seconds = time.monotonic() - started
    crashed = proc.proc.poll() is not None
    async with aiohttp.ClientSession(timeout=client_timeout) as http:
        healthy = False
        try:
            async with http.get(base + "/healthz") as resp:
                healthy = resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            healthy = False
    rest = _schemathesis(base, token, rest_examples, seed) if rest_examples and not crashed else None
    peak_kb = _rss_peak_kb(proc.proc.pid)
    proc.stop()
    summary = {
        "cases": sum(by_target.values()),
        "seed": seed,
        "seconds": round(seconds, 1),
        "by_target": dict(by_target),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": len(server_errors),
        "server_error_cases": server_errors[:20],
        "hangs": len(hangs),
        "hang_cases": hangs[:20],
        "crashed": crashed,
        "healthy_after": healthy,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "schemathesis": rest,
        "data_dir": str(data_dir) if keep else None,
    }
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return summary


def _schemathesis(base: str, token: str, examples: int, seed: int) -> dict[str, Any]:
    """schemathesis (its CLI, `--checks all`) against the served OpenAPI document."""
    exe = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    # The same configuration as the test suite's run (the opaque cursor's documented 400).
    config = ROOT / "tests" / "api" / "schemathesis.toml"
    cmd = [
        exe, *(["--config-file", str(config)] if config.exists() else []),
        "run", f"{base}/api/v1/openapi.json", "--checks", "all", "--max-examples", str(examples),
        "--seed", str(seed), "-H", f"Authorization: Bearer {token}", "--no-color", "--request-timeout", "10",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    tail = [line for line in done.stdout.splitlines() if line.strip()][-12:]
    return {"exit_code": done.returncode, "summary": tail}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds before a request counts as a hang")
    parser.add_argument("--rest-examples", type=int, default=0, help="schemathesis examples per operation (0: skip)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (logs, journal)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    summary = asyncio.run(run(args.cases, args.seed, args.timeout, args.rest_examples, args.keep))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        for key, value in summary.items():
            print(f"{key:>20}: {value}")
    rest_failed = summary["schemathesis"] is not None and summary["schemathesis"]["exit_code"] != 0
    bad = summary["server_errors"] or summary["hangs"] or summary["crashed"] or not summary["healthy_after"]
    return 1 if bad or rest_failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
