"""``mse-gateway certs``: the test PKI (never real keys) and certificate inspection."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.cli.messages import echo, say

__all__ = ["certs"]

# Same list as gateway.signatures.keys.KEY_ALGORITHMS, spelled out so --help needs no crypto imports.
_ALGORITHMS = ("gost2012-256", "gost2012-512", "gost2015-kz-512", "rsa", "ecdsa")


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(say("not_iso_time", value=repr(value)), param_hint=option) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@click.group("certs")
def certs() -> None:
    """Test PKI: create CAs, issue and revoke certificates, show certificates."""


@certs.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--algorithm",
    type=click.Choice(_ALGORITHMS),
    default="gost2012-256",
    show_default=True,
    help="Key algorithm of the CAs (and default for leaves).",
)
def init(directory: Path, algorithm: str) -> None:
    """Create a root and an issuing CA in DIRECTORY (trust anchors in DIRECTORY/trust, CRLs in DIRECTORY/crl)."""
    from gateway.signatures.pki import TestPki

    try:
        pki = TestPki.init(directory, algorithm)
    except (FileExistsError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    echo("certs.root", serial=pki.root.serial_hex, path=directory / "root.pem")
    echo("certs.issuing", serial=pki.ca.serial_hex, path=directory / "ca.pem")
    echo("certs.trust", path=pki.trust_dir)
    echo("certs.crls", paths=f"{pki.crl_path} {pki.root_crl_path}")


_ID_OPTIONS = ("snils", "inn", "inn_le", "ogrn", "ogrnip", "iin", "bin")


@certs.command("issue")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--profile",
    required=True,
    help="vk-chair, doctor, mo-org, mse-head, mse-official, mse-org, kz-vkk-chair, kz-org, kz-individual.",
)
@click.option(
    "--algorithm",
    type=click.Choice(_ALGORITHMS),
    default=None,
    help="Key algorithm of this certificate (default: the PKI's).",
)
@click.option("--cn", default=None, help="commonName.")
@click.option("--surname", default=None, help="surname (SN).")
@click.option("--given-name", default=None, help="givenName (G): name and patronymic.")
@click.option("--title", default=None, help="Position (title, 2.5.4.12).")
@click.option("--org", "organization", default=None, help="organizationName.")
@click.option("--email", default=None)
@click.option("--snils", default=None, help="СНИЛС, 11 digits.")
@click.option("--inn", default=None, help="ИНН of a person, 12 digits.")
@click.option("--innle", "inn_le", default=None, help="ИНН ЮЛ, 10 digits.")
@click.option("--ogrn", default=None, help="ОГРН, 13 digits.")
@click.option("--ogrnip", default=None, help="ОГРНИП, 15 digits.")
@click.option("--iin", default=None, help="Kazakh IIN, 12 digits (goes to serialNumber=IIN…).")
@click.option("--bin", "bin_", default=None, help="Kazakh BIN, 12 digits (goes to OU=BIN…).")
@click.option("--not-before", default=None, help="ISO 8601 (default: now - 1 day).")
@click.option("--not-after", default=None, help="ISO 8601 (default: not-before + 15 months).")
@click.option("--unchecked", is_flag=True, help="Accept identifiers with wrong check digits (negative tests).")
def issue(
    directory: Path,
    profile: str,
    algorithm: str | None,
    cn: str | None,
    surname: str | None,
    given_name: str | None,
    title: str | None,
    organization: str | None,
    email: str | None,
    snils: str | None,
    inn: str | None,
    inn_le: str | None,
    ogrn: str | None,
    ogrnip: str | None,
    iin: str | None,
    bin_: str | None,
    not_before: str | None,
    not_after: str | None,
    unchecked: bool,
) -> None:
    """Issue a certificate and a PKCS#8 key for PROFILE from the PKI in DIRECTORY."""
    from gateway.documents import identifiers as ids
    from gateway.signatures.pki import PROFILES, TestPki

    checks = {
        "snils": ids.is_valid_snils,
        "inn": ids.is_valid_inn,
        "inn_le": ids.is_valid_inn,
        "ogrn": ids.is_valid_ogrn,
        "ogrnip": ids.is_valid_ogrnip,
        "iin": ids.is_valid_iin,
        "bin": ids.is_valid_bin,
    }

    if profile not in PROFILES:
        raise click.BadParameter(say("certs.unknown_profile", profiles=", ".join(PROFILES)), param_hint="--profile")
    fields: dict[str, str | None] = {
        "cn": cn,
        "surname": surname,
        "given_name": given_name,
        "title": title,
        "organization": organization,
        "email": email,
        "snils": snils,
        "inn": inn,
        "inn_le": inn_le,
        "ogrn": ogrn,
        "ogrnip": ogrnip,
        "iin": iin,
        "bin": bin_,
    }
    if not unchecked:
        for name in _ID_OPTIONS:
            value = fields[name]
            if value is not None and not checks[name](value):
                option = "--" + ("innle" if name == "inn_le" else name)
                raise click.BadParameter(say("certs.check_digits", value=repr(value)), param_hint=option)
    try:
        pki = TestPki(directory)
        issued = pki.issue(
            profile,
            fields,
            algorithm=algorithm,
            not_before=_parse_time(not_before, "--not-before"),
            not_after=_parse_time(not_after, "--not-after"),
        )
    except (FileNotFoundError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    echo("certs.serial", serial=issued.serial_hex)
    echo("certs.cert", path=issued.cert_path)
    echo("certs.key", path=issued.key_path)


@certs.command("revoke")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("serial")
@click.option(
    "--reason",
    default="key_compromise",
    show_default=True,
    type=click.Choice(
        [
            "unspecified",
            "key_compromise",
            "affiliation_changed",
            "superseded",
            "cessation_of_operation",
            "certificate_hold",
        ]
    ),
)
@click.option("--at", default=None, help="Revocation time (ISO 8601; default now).")
def revoke(directory: Path, serial: str, reason: str, at: str | None) -> None:
    """Revoke SERIAL (hex) and rewrite DIRECTORY/crl/*.crl."""
    from gateway.signatures.pki import TestPki

    try:
        pki = TestPki(directory)
        serial_hex = pki.revoke(serial, reason=None if reason == "unspecified" else reason, at=_parse_time(at, "--at"))
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise click.UsageError(str(exc).strip("'\"")) from None
    echo("certs.revoked", serial=serial_hex, path=pki.crl_path)


@certs.command("crl")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def crl(directory: Path) -> None:
    """Re-issue the CRLs of DIRECTORY (fresh thisUpdate/nextUpdate)."""
    from gateway.signatures.pki import TestPki

    try:
        pki = TestPki(directory)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    pki.write_crls()
    click.echo(f"{pki.crl_path}\n{pki.root_crl_path}")


@certs.command("show")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def show(file: Path) -> None:
    """Print the identity fields of the certificate(s) in FILE as JSON."""
    from gateway.signatures.certificates import load_certificates

    try:
        found = load_certificates(file.read_bytes())
    except ValueError as exc:
        raise click.UsageError(f"{file}: {exc}") from None
    out = []
    for cert in found:
        item = cert.identity().to_dict()
        item.update(
            serial_hex=cert.serial_hex,
            issuer=cert.issuer,
            not_before=cert.not_before.isoformat(),
            not_after=cert.not_after.isoformat(),
            key_usage=sorted(cert.key_usage or ()),
            extended_key_usage=list(cert.extended_key_usage),
            is_ca=cert.is_ca,
            signature_algorithm=cert.signature_algorithm_oid,
        )
        out.append(item)
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
