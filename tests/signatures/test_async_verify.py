"""The async API: verification runs in an executor and gives the same verdicts as the sync core."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from gateway.signatures import Verifier, verify_cms_async
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.sign import sign_cms

DOC = b"async " * 2000


async def test_async_matches_sync(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    verifier = Verifier(gost_pki.trust_dir, [gost_pki.crl_path, gost_pki.root_crl_path])
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    sync = verifier.verify_cms(signature, DOC)
    result = await verifier.verify_cms_async(signature, DOC)
    assert result.valid and sync.valid
    assert result.signatures[0].to_dict() == sync.signatures[0].to_dict()
    bad = await verify_cms_async(signature, DOC + b"!", verifier=verifier)
    assert not bad.valid


async def test_runs_off_the_event_loop_thread(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    verifier = Verifier(gost_pki.trust_dir)
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = verifier.verify_cms

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(threading.get_ident())
        return original(*args, **kwargs)  # type: ignore[arg-type]

    verifier.verify_cms = spy  # type: ignore[method-assign,assignment]
    with ThreadPoolExecutor(4) as pool:
        reports = await asyncio.gather(*(verifier.verify_cms_async(signature, DOC, executor=pool) for _ in range(8)))
    assert all(r.valid for r in reports)
    assert len(seen) == 8 and loop_thread not in seen
