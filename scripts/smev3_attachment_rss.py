"""Peak memory of sending one large SMEV 3 attachment through the file store (issue 15, item 6).

The SMEV 3 twin runs in a child process (its own memory); this process builds a document of
``--mb`` MiB, warms up with a small send (imports, GOST engine, connection pool), then sends the big
one with ``Smev3Adapter.send``: the document signed with ЭП-СП (detached CMS), uploaded to the twin's
file store (streamed, hashed on the way), then SendRequest with RefAttachmentHeader. It prints the
process's peak RSS (``ru_maxrss``) before and after the big send, and the growth against the
document's size: "never held twice" means the growth stays well below one document.

    PYTHONPATH=. python scripts/smev3_attachment_rss.py [--mb 50]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import secrets
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any


def _serve_twin(port: int) -> None:
    from aiohttp import web

    from adapters.smev3.sandbox import create_twin
    from gateway.common.clock import SystemClock

    app = create_twin("none", SystemClock(), seed=1)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


class _Sampler:
    """The current RSS sampled every 2 ms on a thread: the highest seen during the send."""

    def __init__(self) -> None:
        self.highest = _rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.highest = max(self.highest, _rss_mib())
            time.sleep(0.002)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.highest = max(self.highest, _rss_mib())


async def _run(mb: int, port: int) -> dict[str, Any]:
    import aiohttp

    from adapters.smev3.adapter import Smev3Adapter
    from adapters.smev3.settings import Smev3Settings
    from adapters.smev3.signing import Signer
    from gateway.intake.submission import CanonicalSubmission
    from gateway.signatures.keys import generate_key
    from gateway.signatures.pki.builder import build_certificate, build_name
    from gateway.signatures.xml.verify import XmlVerifier

    key = generate_key("gost2012-256")
    now = datetime.now(UTC)
    cert = build_certificate(
        subject=build_name([("2.5.4.3", "rss benchmark")]),
        subject_key=key.public,
        issuer_key=key,
        issuer=None,
        serial=secrets.randbits(63),
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=30),
    )
    signer = Signer(key, cert)
    settings = Smev3Settings(
        protocol="smev3", url=f"http://127.0.0.1:{port}/smev3/ws", timeout_seconds=120.0, filestore_url="/_filestore/"
    )

    def submission(document: bytes) -> CanonicalSubmission:
        return CanonicalSubmission(
            "mis", "doc-rss", "35", "1.2.643.5.1.13.13.12.2.77.9001", now, document, "application/xml", ()
        )

    class Sub:
        local_uid = "doc-rss"

    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # the twin process starting
            try:
                async with session.get(f"http://127.0.0.1:{port}/_sandbox/stats") as reply:
                    if reply.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        adapter = Smev3Adapter(
            settings, session, name="smev", signer=signer, verifier=XmlVerifier(), personal_signer=signer
        )
        small = submission(b"<ClinicalDocument>" + b"x" * (6 << 20) + b"</ClinicalDocument>")  # warm-up, file store too
        warm = await adapter.send(Sub(), small, message_id=adapter.new_message_id())  # type: ignore[arg-type]
        assert str(warm.kind) == "accepted", warm
        del small
        before_document = _rss_mib()
        document = os.urandom(mb << 20)  # one allocation: the payload held once, by the caller
        before, peak_before = _rss_mib(), _peak_mib()
        started = time.perf_counter()
        with _Sampler() as sampler:
            answer = await adapter.send(Sub(), submission(document), message_id=adapter.new_message_id())  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        after = _peak_mib()
        async with session.get(f"http://127.0.0.1:{port}/_sandbox/stats") as reply:
            stats = await reply.json()
    return {
        "document_mib": round(len(document) / (1 << 20), 1),
        "answer": str(answer.kind),
        "error": answer.error,
        "rss_before_document_mib": round(before_document, 1),
        "rss_before_send_mib": round(before, 1),
        "highest_rss_during_send_mib": round(sampler.highest, 1),
        "growth_during_send_mib": round(sampler.highest - before, 1),
        "ru_maxrss_before_mib": round(peak_before, 1),
        "ru_maxrss_after_mib": round(after, 1),
        "seconds": round(seconds, 2),
        "twin_filestore": stats.get("filestore"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=50)
    args = parser.parse_args()
    port = _free_port()
    twin = multiprocessing.get_context("spawn").Process(target=_serve_twin, args=(port,), daemon=True)
    twin.start()
    try:
        result = asyncio.run(_run(args.mb, port))
    finally:
        twin.terminate()
        twin.join(5)
    for key, value in result.items():
        print(f"{key}: {value}")
    sys.exit(0 if result["answer"] == "accepted" else 1)


if __name__ == "__main__":
    main()
