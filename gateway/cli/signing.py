"""``mse-gateway sign`` and ``mse-gateway verify``: CMS / CAdES-BES and XMLDSig / XAdES signatures.

verify exits 0 when the container is valid, 1 when it is not, 2 when the input cannot be read as a
CMS signature or as XML or the command is used wrongly (click's own usage errors are 2 as well).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from gateway.cli.messages import echo, say

__all__ = ["sign", "verify"]

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(say("not_iso_time", value=repr(value)), param_hint=option) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _read(path: Path, what: str) -> bytes:
    """``path``'s bytes; ``what`` is a catalogue key (``read.key``…) naming the file in the error."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.FileError(str(path), hint=say("cannot_read", what=say(what), reason=exc.strerror)) from None


@click.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PKCS#8 private key (PEM or DER; GOST keys in the OpenSSL GOST engine layout).",
)
@click.option(
    "--cert",
    "cert_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signer's certificate.",
)
@click.option(
    "--chain",
    "chain_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA certificates to embed (repeatable; files may hold several).",
)
@click.option("--attached", is_flag=True, help="Embed the content (default: detached, as REMD expects).")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signature.",
)
@click.option("--pem", is_flag=True, help="Write PEM (-----BEGIN CMS-----) instead of DER.")
@click.option("--no-signed-attributes", is_flag=True, help="Plain CMS without signed attributes (not CAdES-BES).")
@click.option(
    "--xml", "as_xml", is_flag=True, help="XMLDSig instead of CMS: FILE is an XML document (docs/xmldsig.md)."
)
@click.option(
    "--style",
    type=click.Choice(["smev", "enveloped"]),
    default=None,
    help="XML: 'smev' (element by Id, exc-c14n + SMEV transform) or 'enveloped' (default; NCA style).",
)
@click.option("--id", "reference_id", help="XML: Id of the element to sign (required for --style smev).")
@click.option("--xades", is_flag=True, help="XML: add XAdES-BES SignedProperties (SigningTime, SigningCertificateV2).")
def sign(
    file: Path,
    key_path: Path,
    cert_path: Path,
    chain_paths: tuple[Path, ...],
    attached: bool,
    out_path: Path,
    pem: bool,
    no_signed_attributes: bool,
    as_xml: bool,
    style: str | None,
    reference_id: str | None,
    xades: bool,
) -> None:
    """Sign FILE: CMS SignedData, CAdES-BES (contentType, signingTime, messageDigest, signingCertificateV2).

    With --xml: an XMLDSig signature inside the document (SMEV 3 or Kazakh NCA style)."""
    from gateway.signatures.certificates import load_certificates
    from gateway.signatures.keys import load_private_key
    from gateway.signatures.sign import sign_cms

    if as_xml:
        if attached or pem or no_signed_attributes:
            raise click.UsageError(say("sign.cms_only"))
        _sign_xml(file, key_path, cert_path, chain_paths, out_path, style or "enveloped", reference_id, xades)
        return
    if style or reference_id or xades:
        raise click.UsageError(say("sign.xml_only"))
    try:
        key = load_private_key(_read(key_path, "read.key"))
        cert = load_certificates(_read(cert_path, "read.certificate"))[0]
        chain = [c for p in chain_paths for c in load_certificates(_read(p, "read.chain"))]
        signature = sign_cms(
            _read(file, "read.content"),
            key,
            cert,
            chain=chain,
            attached=attached,
            signed_attributes=not no_signed_attributes,
            pem=pem,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    out_path.write_bytes(signature)
    how = say("verify.attached" if attached else "verify.detached")
    echo("sign.written", err=True, how=how, path=out_path)


def _sign_xml(
    file: Path,
    key_path: Path,
    cert_path: Path,
    chain_paths: tuple[Path, ...],
    out_path: Path,
    style: str,
    reference_id: str | None,
    xades: bool,
) -> None:
    from gateway.signatures.certificates import load_certificates
    from gateway.signatures.errors import UnsupportedAlgorithm
    from gateway.signatures.keys import load_private_key
    from gateway.signatures.xml.sign import XmlSignError, sign_xml
    from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError

    try:
        key = load_private_key(_read(key_path, "read.key"))
        cert = load_certificates(_read(cert_path, "read.certificate"))[0]
        chain = [c for p in chain_paths for c in load_certificates(_read(p, "read.chain"))]
        signed = sign_xml(
            _read(file, "read.document"),
            key,
            cert,
            style="smev" if style == "smev" else "enveloped",
            reference_id=reference_id,
            chain=chain,
            xades=xades,
        )
    except (XmlSignError, XmlSecurityError, XmlSyntaxError, UnsupportedAlgorithm, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    out_path.write_bytes(signed)
    echo("sign.xml_written", err=True, style=style, path=out_path)


def _print_human(report: object) -> None:
    from gateway.cli.messages import cli_language
    from gateway.signatures.report import ReportEntry, VerificationReport

    assert isinstance(report, VerificationReport)
    english = cli_language() == "en"

    def text(entry: ReportEntry) -> str:
        return entry.message_en if english else entry.message

    echo(
        "verify.headline",
        verdict=say("verify.VALID" if report.valid else "verify.INVALID"),
        format="CMS" if report.format == "cms" else "XMLDSig",
        how=say("verify.detached" if report.detached else "verify.attached"),
        n=len(report.signatures),
    )
    for entry in report.errors:
        click.echo(f"  ! {entry.code.value}: {text(entry)} ({entry.detail})")
    for sig in report.signatures:
        signer = sig.signer
        who = say("verify.unknown_signer") if signer is None else (signer.common_name or signer.subject)
        click.echo(f"  [{sig.index}] {say('verify.valid' if sig.valid else 'verify.invalid')}: {who}")
        if signer is not None and signer.title:
            echo("verify.title", title=signer.title)
        click.echo(
            f"      integrity={sig.integrity} chain={sig.chain} algorithm={sig.algorithm} revocation={sig.revocation}"
        )
        echo("verify.signing_time", time=sig.signing_time or "-", source=sig.signing_time_source)
        if sig.certificate is not None:
            c = sig.certificate
            echo("verify.certificate", serial=c.serial_hex, start=c.not_before, end=c.not_after)
        for entry in sig.errors:
            click.echo(f"      ! {entry.code.value}: {text(entry)} ({entry.detail})")
        for entry in sig.warnings:
            click.echo(f"      ~ {entry.code.value}: {text(entry)} ({entry.detail})")


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--content",
    "content_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signed data, for a detached signature.",
)
@click.option(
    "--cert",
    "cert_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Extra certificates (signer or CAs) when the CMS lacks them; repeatable.",
)
@click.option(
    "--trust",
    "trust_dir",
    envvar="MSE_GATEWAY_TRUST_DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of trusted CA certificates (env MSE_GATEWAY_TRUST_DIR). Without it the chain is "
    "'not-checked' and the signature cannot be valid.",
)
@click.option("--crl", "crls", multiple=True, help="CRL file, directory of *.crl or http(s) URL; repeatable.")
@click.option("--at", "at", help="Check time (ISO 8601; default now). Naive times are UTC.")
@click.option("--document-time", help="Document creation time, used when the signature has no signingTime.")
@click.option("--single-signer", is_flag=True, help="More than one SignerInfo is an error (MULTIPLE_SIGNERS).")
@click.option("--require-cades-bes", is_flag=True, help="Signed attributes with signingCertificate(V2) required.")
@click.option("--require-revocation", is_flag=True, help="A certificate without a CRL is an error.")
@click.option(
    "--expect",
    "expected",
    multiple=True,
    help="XML: XPath of an element the signatures must cover (repeatable); a reference elsewhere is an error.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report (docs/verify-report.md).")
def verify(
    file: Path,
    content_path: Path | None,
    cert_paths: tuple[Path, ...],
    trust_dir: Path | None,
    crls: tuple[str, ...],
    at: str | None,
    document_time: str | None,
    single_signer: bool,
    require_cades_bes: bool,
    require_revocation: bool,
    expected: tuple[str, ...],
    as_json: bool,
) -> None:
    """Verify the CMS signature in FILE. Exit 0 valid, 1 invalid, 2 unreadable input or usage error."""
    from gateway.signatures.certificates import load_certificates
    from gateway.signatures.codes import SignatureErrorCode
    from gateway.signatures.errors import MissingContentError
    from gateway.signatures.verify import Verifier, VerifyPolicy

    check_time = _parse_time(at, "--at")
    doc_time = _parse_time(document_time, "--document-time")
    data = _read(file, "read.signature")
    is_xml = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<"
    if is_xml and content_path is not None:
        echo("verify.xml_content", err=True, file=file)
        sys.exit(EXIT_UNREADABLE)
    if expected and not is_xml:
        raise click.UsageError(say("verify.expect_xml"))
    content = _read(content_path, "read.content") if content_path else None
    try:
        extra = [c for p in cert_paths for c in load_certificates(_read(p, "read.a_certificate"))]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--cert") from None
    policy = VerifyPolicy(
        single_signer=single_signer,
        require_cades_bes=require_cades_bes,
        require_revocation=require_revocation,
    )
    for source in crls:
        if not source.startswith(("http://", "https://")) and not Path(source).exists():
            raise click.BadParameter(say("verify.no_crl", source=source), param_hint="--crl")
    verifier = Verifier(trust_dir, list(crls) or None, policy=policy)
    if is_xml:
        _verify_xml(file, data, verifier, extra, doc_time, check_time, expected, as_json)
    try:
        report = verifier.verify_cms(data, content, certificates=extra, document_time=doc_time, check_time=check_time)
    except MissingContentError:
        echo("verify.needs_content", err=True, file=file)
        sys.exit(EXIT_UNREADABLE)
    if as_json:
        click.echo(report.to_json())
    else:
        _print_human(report)
    unreadable = {SignatureErrorCode.SIGNATURE_DECODING_ERROR, SignatureErrorCode.WRONG_SIGNATURE_FORMAT}
    if not report.signatures and any(e.code in unreadable for e in report.errors):
        if not as_json:
            echo("verify.not_cms", err=True, file=file)
        sys.exit(EXIT_UNREADABLE)
    sys.exit(EXIT_VALID if report.valid else EXIT_INVALID)


def _verify_xml(
    file: Path,
    data: bytes,
    verifier: object,
    extra: Sequence[object],
    doc_time: datetime | None,
    check_time: datetime | None,
    expected: tuple[str, ...],
    as_json: bool,
) -> NoReturn:
    """The XML branch of ``verify``: same report (format "xmldsig") and exit codes as CMS."""
    from gateway.signatures.certificates import Certificate
    from gateway.signatures.codes import SignatureErrorCode
    from gateway.signatures.verify import Verifier
    from gateway.signatures.xml.verify import XmlVerifier

    assert isinstance(verifier, Verifier)
    certificates = [c for c in extra if isinstance(c, Certificate)]
    try:
        result = XmlVerifier(verifier).verify_xml(
            data,
            certificates=certificates,
            document_time=doc_time,
            check_time=check_time,
            expected=list(expected) or None,
        )
    except ValueError as exc:  # an XPath given with --expect that does not compile
        raise click.BadParameter(str(exc), param_hint="--expect") from None
    report = result.report
    if as_json:
        click.echo(report.to_json())
    else:
        _print_human(report)
    if not report.signatures:
        # not a signed XML document at all: unusable input, like garbage given as CMS
        if not as_json:
            unreadable = any(e.code is SignatureErrorCode.SIGNATURE_DECODING_ERROR for e in report.errors)
            echo("verify.not_xml" if unreadable else "verify.no_dsig", err=True, file=file)
        sys.exit(EXIT_UNREADABLE)
    sys.exit(EXIT_VALID if report.valid else EXIT_INVALID)
