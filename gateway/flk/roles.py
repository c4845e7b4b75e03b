"""Role policy: which signatures a document kind needs, and whether the ones it has fit.

The policy is data (``config/roles.toml``, documented there and in docs/flk.md), one table per
document kind. It says how many personal and organisation signatures the kind takes, whose personal
signature it must be (the document's legal authenticator: the VK chair of a referral, the bureau
head or an authorised official of a result), which certificate titles fit that role, and which
identifier ties certificate, submission metadata and document together (SNILS in Russia, IIN in
Kazakhstan). The checks mirror what REMD reports on registration, with REMD's codes:

- VALUE_MISMATCH_METADATA_AND_CERTIFICATE — the certificate's SNILS/IIN is not the signer declared in
  the submission metadata or in the document;
- POSITION_TO_ROLE_MISMATCH — the certificate's title (2.5.4.12) does not fit the role, or a Kazakh
  certificate lacks the required holder type (EKU, e.g. INDIVIDUAL 1.2.398.3.3.4.1.1);
- ROLE_OCCURRENCE_MISMATCH / ORG_SIGNATURE_OCCURRENCE_MISMATCH — wrong number of personal /
  organisation signatures;
- SIGNER_ORG_MISMATCH — the organisation certificate's OGRN (BIN) is not the document's organisation's.

Identifiers in certificates are compared, never checksum-validated: the Kazakh NCA test certificates
carry placeholder IINs with wrong check digits, and a certificate is not the place to judge that.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.common.language import Text
from gateway.documents.model import ParsedDocument, Practitioner
from gateway.errors import ConfigError
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.journal_view import normalise_person_id
from gateway.flk.messages import FLK_TEXTS
from gateway.flk.signatures import SignatureCheck, entry_label, labelled
from gateway.intake.submission import CanonicalSubmission
from gateway.signatures import SignerIdentity

__all__ = [
    "BUILTIN_POLICY",
    "KindPolicy",
    "RolePolicy",
    "check_roles",
    "load_role_policy",
    "normalise_title",
]

RULE = "role-policy"


class KindPolicy(BaseModel):
    """The signature requirements of one document kind (see config/roles.toml)."""

    # Not strict: TOML arrays arrive as lists and become tuples.
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    role: str
    signer: Literal["legal_authenticator"] = "legal_authenticator"
    identity: Literal["snils", "iin"]
    personal_min: int = Field(default=1, ge=0)
    personal_max: int = Field(default=1, ge=0)
    title_patterns: tuple[str, ...] = ()
    kz_roles: tuple[str, ...] = ()
    personal_org_match: bool = False
    organization_min: int = Field(default=0, ge=0)
    organization_max: int = Field(default=0, ge=0)
    organization_identity: Literal["ogrn", "bin"] = "ogrn"

    @field_validator("title_patterns")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"title pattern {pattern!r} is not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _ranges(self) -> KindPolicy:
        if self.personal_min > self.personal_max:
            raise ValueError("personal_min is greater than personal_max")
        if self.organization_min > self.organization_max:
            raise ValueError("organization_min is greater than organization_max")
        return self

    def title_fits(self, title: str | None) -> bool:
        if not self.title_patterns:
            return True
        if not title:
            return False
        text = normalise_title(title)
        return any(re.search(p, text) for p in self.title_patterns)


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: dict[str, KindPolicy]


@dataclass(frozen=True)
class RolePolicy:
    """Kind → requirements. A kind the policy does not list cannot pass the role check."""

    kinds: Mapping[str, KindPolicy]

    def for_kind(self, kind: str) -> KindPolicy | None:
        return self.kinds.get(kind)


def normalise_title(title: str) -> str:
    """Lower case, ё → е, whitespace collapsed: titles are typed by people at the CA."""
    return " ".join(title.casefold().replace("ё", "е").split())


_RU_CHAIR = (
    r"председател\w* врачебн\w* комисс",
    r"председател\w* (вк|в\.к\.|вк мо)\b",
)
# Only the head of the bureau (or of an expert composition, which heads it in the main bureau): a
# deputy, an expert doctor or an "authorised official" may not sign a result of edition 3 (187).
# Anchored, so that «заместитель руководителя бюро» does not match.
_BUREAU_HEAD = (
    r"^руководител\w*\b.*\bбюро",
    r"^руководител\w* экспертн\w* состав",
)
_MSE = (
    r"руководител\w* .*бюро",
    r"заместител\w* руководител\w* .*бюро",
    r"врач\w* по медико-социальной экспертиз",
    r"уполномоченн\w* (должностн\w* )?лиц",
)


def _vk_chair(description: str) -> KindPolicy:
    """The MO's documents signed by the chair of the medical commission plus the MO itself."""
    return KindPolicy(
        description=description,
        role="VK_CHAIR",
        identity="snils",
        title_patterns=_RU_CHAIR,
        personal_org_match=True,
        organization_min=1,
        organization_max=1,
    )


BUILTIN_POLICY = RolePolicy(
    {
        "121": _vk_chair("Направление на МСЭ (ред. 6): председатель ВК + подпись МО"),
        "109": _vk_chair("Направление на МСЭ (ред. 5): председатель ВК + подпись МО"),
        "187": KindPolicy(
            description="Сведения о результатах МСЭ (ред. 3): руководитель бюро + подпись бюро",
            role="BUREAU_HEAD",
            identity="snils",
            title_patterns=_BUREAU_HEAD,
            personal_org_match=True,
            organization_min=1,
            organization_max=1,
        ),
        "130": KindPolicy(
            description="Уведомление о причинах возврата (ред. 2): руководитель бюро или уполномоченное им "
            "должностное лицо бюро МСЭ (подпись бюро — по желанию)",
            role="MSE_OFFICIAL",
            identity="snils",
            title_patterns=_MSE,
            personal_org_match=True,
            organization_min=0,
            organization_max=1,
        ),
        "35": KindPolicy(
            description="Сведения о результатах МСЭ: руководитель бюро или уполномоченное лицо + подпись бюро",
            role="BUREAU_HEAD",
            identity="snils",
            title_patterns=_MSE,
            personal_org_match=True,
            organization_min=1,
            organization_max=1,
        ),
        "108": KindPolicy(
            description="Уведомление о причинах возврата: должностное лицо бюро МСЭ (подпись бюро — по желанию)",
            role="MSE_OFFICIAL",
            identity="snils",
            title_patterns=_MSE,
            personal_org_match=True,
            organization_min=0,
            organization_max=1,
        ),
        "kz-031u": KindPolicy(
            description="Заключение 031/у (РК): председатель ВКК, сертификат физического лица с ИИН подписанта",
            role="VKK_CHAIR",
            identity="iin",
            kz_roles=("INDIVIDUAL",),
            organization_min=0,
            organization_max=1,
            organization_identity="bin",
        ),
        "kz-cbdi-conclusion": KindPolicy(
            description="Заключение эксперта МСЭ АИС ЦБДИ (РК): экстерриториальный эксперт, сертификат "
            "физического лица НУЦ РК с ИИН эксперта, подпись XMLDSig в документе",
            role="KZ_MSE_EXPERT",
            identity="iin",
            kz_roles=("INDIVIDUAL",),
            organization_min=0,
            organization_max=0,
            organization_identity="bin",
        ),
    }
)


def load_role_policy(path: Path | None) -> RolePolicy:
    """The policy from ``path`` (validated; ConfigError naming the problem), or the built-in one."""
    if path is None:
        return BUILTIN_POLICY
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        return RolePolicy(dict(_PolicyFile.model_validate(data).kinds))
    except FileNotFoundError:
        raise ConfigError(f"roles file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors())
        raise ConfigError(f"{path}: invalid role policy: {problems}") from None


# ------------------------------------------------------------------------------------- evaluation


def _norm(value: str | None) -> str | None:
    return None if value is None else normalise_person_id(value)


def _cert_id(identity: SignerIdentity, which: str) -> str | None:
    return _norm(identity.snils if which == "snils" else identity.iin)


def _declared(practitioner: Practitioner | None, which: str) -> str | None:
    if practitioner is None:
        return None
    return _norm(practitioner.snils if which == "snils" else practitioner.iin)


def _id_name(which: str) -> Text:
    return FLK_TEXTS.text("role.id.snils" if which == "snils" else "role.id.iin")


def _personal(
    policy: KindPolicy,
    check: SignatureCheck,
    doc: ParsedDocument | None,
) -> tuple[list[RuleFinding], dict[str, Any]]:
    label = entry_label(check.index, check.entry)
    where = f"signatures/{check.index}"
    out: list[RuleFinding] = []
    signer = check.signer
    info: dict[str, Any] = {"index": check.index, "type": "personal", "role": policy.role}
    if signer is None or signer.signer is None:
        info["checked"] = False  # no certificate to compare: the signature finding says why
        return out, info
    identity = signer.signer
    which = policy.identity
    name = _id_name(which)
    cert_id = _cert_id(identity, which)
    meta_raw = check.entry.signer.get(which)
    meta_id = _norm(meta_raw)
    declared = _declared(doc.legal_authenticator if doc is not None else None, which)
    identity_ok = True
    if cert_id is None:
        identity_ok = False
        out.append(
            finding(
                RULE,
                FlkCode.VALUE_MISMATCH_METADATA_AND_CERTIFICATE,
                "role",
                labelled(label, FLK_TEXTS.text("role.cert_lacks_id", name=name)),
                where,
            )
        )
    else:
        if meta_id is not None and meta_id != cert_id:
            identity_ok = False
            out.append(
                finding(
                    RULE,
                    FlkCode.VALUE_MISMATCH_METADATA_AND_CERTIFICATE,
                    "role",
                    labelled(label, FLK_TEXTS.text("role.meta_vs_cert", name=name)),
                    f"{where}/signer/{which}",
                )
            )
        if doc is not None and declared != cert_id:
            identity_ok = False
            out.append(
                finding(
                    RULE,
                    FlkCode.VALUE_MISMATCH_METADATA_AND_CERTIFICATE,
                    "role",
                    labelled(label, FLK_TEXTS.text("role.doc_vs_cert", name=name, role=policy.role)),
                    f"legal_authenticator.{which}",
                )
            )
    position_ok = policy.title_fits(identity.title)
    if not position_ok:
        out.append(
            finding(
                RULE,
                FlkCode.POSITION_TO_ROLE_MISMATCH,
                "role",
                labelled(
                    label,
                    FLK_TEXTS.text(
                        "role.title", title=identity.title or FLK_TEXTS.text("role.no_title"), role=policy.role
                    ),
                ),
                where,
            )
        )
    missing_roles = [r for r in policy.kz_roles if r not in identity.kz_roles]
    if missing_roles:
        position_ok = False
        out.append(
            finding(
                RULE,
                FlkCode.POSITION_TO_ROLE_MISMATCH,
                "role",
                labelled(label, FLK_TEXTS.text("role.kz_owner_type", roles=", ".join(missing_roles), role=policy.role)),
                where,
            )
        )
    org_ok = True
    if policy.personal_org_match and doc is not None and identity.ogrn is not None:
        org_ogrn = doc.organisation.ogrn
        if org_ogrn is not None and identity.ogrn != org_ogrn:
            org_ok = False
            out.append(
                finding(
                    RULE,
                    FlkCode.SIGNER_ORG_MISMATCH,
                    "role",
                    labelled(label, FLK_TEXTS.text("role.employee_ogrn")),
                    where,
                )
            )
    info.update(checked=True, identity_ok=identity_ok, position_ok=position_ok, organization_ok=org_ok)
    info["title"] = identity.title
    return out, info


def _organisation(
    policy: KindPolicy, check: SignatureCheck, doc: ParsedDocument | None
) -> tuple[list[RuleFinding], dict[str, Any]]:
    label = entry_label(check.index, check.entry)
    info: dict[str, Any] = {"index": check.index, "type": "organization", "role": "ORGANIZATION"}
    signer = check.signer
    if signer is None or signer.signer is None or doc is None:
        info["checked"] = False
        return [], info
    identity = signer.signer
    if policy.organization_identity == "ogrn":
        cert_value, doc_value, name = identity.ogrn, doc.organisation.ogrn, FLK_TEXTS.text("role.id.ogrn")
    else:
        cert_value, doc_value, name = identity.bin, doc.organisation.bin, FLK_TEXTS.text("role.id.bin")
    ok = cert_value is not None and cert_value == doc_value
    info.update(checked=True, organization_ok=ok)
    if ok:
        return [], info
    detail = FLK_TEXTS.text("role.org_cert_lacks" if cert_value is None else "role.org_mismatch", name=name)
    where = f"signatures/{check.index}"
    return [finding(RULE, FlkCode.SIGNER_ORG_MISMATCH, "role", labelled(label, detail), where)], info


def check_roles(
    policy: RolePolicy,
    sub: CanonicalSubmission,
    doc: ParsedDocument | None,
    checks: Sequence[SignatureCheck],
) -> tuple[list[RuleFinding], list[dict[str, Any]]]:
    """Judge the signatures of ``sub`` against the policy for its kind.

    ``doc`` is the parsed document (None when it could not be parsed: then only counts and the
    metadata-vs-certificate comparison are possible). Returns the findings and one entry per
    signature for the report's ``roles``.
    """
    kind_policy = policy.for_kind(sub.kind)
    if kind_policy is None:
        return [
            finding(
                RULE,
                FlkCode.ROLE_OCCURRENCE_MISMATCH,
                "role",
                FLK_TEXTS.text("role.no_policy", kind=sub.kind),
                "kind",
            )
        ], []
    findings: list[RuleFinding] = []
    roles: list[dict[str, Any]] = []
    personal = [c for c in checks if c.entry.type == "personal"]
    organisation = [c for c in checks if c.entry.type == "organization"]
    if not kind_policy.personal_min <= len(personal) <= kind_policy.personal_max:
        findings.append(
            finding(
                RULE,
                FlkCode.ROLE_OCCURRENCE_MISMATCH,
                "role",
                FLK_TEXTS.text(
                    "role.personal_count",
                    count=len(personal),
                    kind=sub.kind,
                    role=kind_policy.role,
                    range=Text("", "")
                    if kind_policy.personal_min == kind_policy.personal_max
                    else FLK_TEXTS.text("role.range", low=kind_policy.personal_min, high=kind_policy.personal_max),
                ),
                "signatures",
            )
        )
    if not kind_policy.organization_min <= len(organisation) <= kind_policy.organization_max:
        findings.append(
            finding(
                RULE,
                FlkCode.ORG_SIGNATURE_OCCURRENCE_MISMATCH,
                "role",
                FLK_TEXTS.text(
                    "role.org_count",
                    count=len(organisation),
                    kind=sub.kind,
                    low=kind_policy.organization_min,
                    high=kind_policy.organization_max,
                ),
                "signatures",
            )
        )
    for check in checks:
        if check.entry.type == "personal":
            found, info = _personal(kind_policy, check, doc)
        else:
            found, info = _organisation(kind_policy, check, doc)
        findings.extend(found)
        info["ok"] = info.get("checked", False) and not found
        roles.append(info)
    return findings, roles
