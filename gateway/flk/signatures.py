"""Verifying every signature of a submission over the exact document bytes, and the findings.

Each ``signatures[i]`` entry of the canonical submission is a detached CMS (CAdES-BES) over
``document`` as received: verification goes to the project's engine (:class:`Verifier`), called
from the checker's offline part, which runs in a worker thread or a validation process so the
event loop never waits on crypto. XMLDSig
entries cannot be verified yet (the engine does CMS only): they are reported as
WRONG_SIGNATURE_FORMAT rather than silently accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.common.language import Text
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.messages import FLK_TEXTS
from gateway.intake.submission import CanonicalSubmission, SignatureEntry
from gateway.signatures import SignatureReport, VerificationReport, Verifier

__all__ = [
    "SignatureCheck",
    "entry_label",
    "invalid_signature_findings",
    "labelled",
    "signatures_present_findings",
    "signatures_report",
    "verify_entries_sync",
]

RULE_PRESENT = "signatures-present"
RULE_VALID = "invalid-signature"


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The verification outcome of one ``signatures[i]`` entry."""

    index: int
    entry: SignatureEntry
    report: VerificationReport | None
    unsupported: str | None = None  # why it could not be verified at all

    @property
    def valid(self) -> bool:
        return self.report is not None and self.report.valid

    @property
    def signer(self) -> SignatureReport | None:
        """The (first) SignerInfo's report: REMD containers hold one signer."""
        if self.report is None or not self.report.signatures:
            return None
        return self.report.signatures[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "type": self.entry.type,
            "valid": self.valid,
            "unsupported": self.unsupported,
            "report": None if self.report is None else self.report.to_dict(),
        }


def entry_label(index: int, entry: SignatureEntry) -> Text:
    kind = "personal" if entry.type == "personal" else "organization"
    return FLK_TEXTS.text(f"signature.label.{kind}", n=index + 1)


def labelled(label: Text, text: Text) -> Text:
    """``label: text`` in each language."""
    return Text(f"{label.ru}: {text.ru}", f"{label.en}: {text.en}")


def verify_entries_sync(
    verifier: Verifier, sub: CanonicalSubmission, *, check_time: datetime | None = None
) -> list[SignatureCheck]:
    """Verify every CMS entry in turn, in the calling thread (a validation worker process or
    thread). ``check_time`` is the checker's clock (the sandbox runs on a simulated one); None
    means now."""
    checks: list[SignatureCheck] = []
    for index, entry in enumerate(sub.signatures):
        if entry.cms is None:
            checks.append(SignatureCheck(index, entry, None, "XMLDSig"))
            continue
        report = verifier.verify_cms(
            entry.cms, sub.document, document_time=sub.creation_datetime, check_time=check_time
        )
        checks.append(SignatureCheck(index, entry, report))
    return checks


def signatures_report(checks: Sequence[SignatureCheck]) -> dict[str, Any]:
    """The ``signatures`` part of the report: one verification report per entry."""
    return {"valid": bool(checks) and all(c.valid for c in checks), "entries": [c.to_dict() for c in checks]}


def signatures_present_findings(sub: CanonicalSubmission) -> list[RuleFinding]:
    """NO_SIGNATURE when the submission carries no signature at all."""
    if sub.signatures:
        return []
    return [
        finding(RULE_PRESENT, FlkCode.NO_SIGNATURE, "invalid_signature", FLK_TEXTS.text("signature.none"), "signatures")
    ]


def invalid_signature_findings(checks: Sequence[SignatureCheck]) -> list[RuleFinding]:
    """One finding per distinct REMD code of every entry that is not valid."""
    out: list[RuleFinding] = []
    for check in checks:
        label = entry_label(check.index, check.entry)
        where = f"signatures/{check.index}"
        if check.report is None:
            out.append(
                finding(
                    RULE_VALID,
                    FlkCode.WRONG_SIGNATURE_FORMAT,
                    "invalid_signature",
                    labelled(label, FLK_TEXTS.text("signature.xmldsig")),
                    where,
                )
            )
            continue
        if check.report.valid:
            continue
        entries = [*check.report.errors, *(e for s in check.report.signatures for e in s.errors)]
        seen: set[str] = set()
        for entry in entries:
            code = entry.code.remd_code
            if code in seen:
                continue
            seen.add(code)
            out.append(
                finding(
                    RULE_VALID, code, "invalid_signature", labelled(label, Text(entry.message, entry.message_en)), where
                )
            )
        if not seen:  # not valid without a coded error: the chain could not be checked at all
            out.append(
                finding(
                    RULE_VALID,
                    FlkCode.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT,
                    "invalid_signature",
                    labelled(label, FLK_TEXTS.text("signature.untrusted")),
                    where,
                )
            )
    return out
