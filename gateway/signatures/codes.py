"""Error codes of signature verification, in REMD's language.

Every problem the verifier reports carries one of these codes. Most are REMD EGISZ codes
(NSI 1.2.643.5.1.13.13.99.2.305, see reference/remd-error-codes.tsv) so that a rejection can be
answered in the words REMD itself would use. The few gateway-only codes (``CERT_REVOKED``) say which
REMD code they map to, so the peer-facing edge can always speak REMD.

This enum is meant to be folded into the gateway's canonical ``ErrorCode`` later; until then it lives
here, next to the code that raises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["CodeInfo", "SignatureErrorCode"]


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What a code means: the REMD code it maps to, REMD's NSI id, and its message in Russian
    (REMD's own wording) and English."""

    remd_code: str
    nsi_id: int | None
    message: str
    message_en: str


class SignatureErrorCode(StrEnum):
    """Codes of signature-verification problems (values are the code strings themselves)."""

    NO_SIGNATURE = "NO_SIGNATURE"
    SIGNATURE_DECODING_ERROR = "SIGNATURE_DECODING_ERROR"
    WRONG_SIGNATURE_FORMAT = "WRONG_SIGNATURE_FORMAT"
    UNKNOWN_ALGORITHM = "UNKNOWN_ALGORITHM"
    SIGNATURE_VERIFICATION_ERROR = "SIGNATURE_VERIFICATION_ERROR"
    DIGEST_MISMATCH = "DIGEST_MISMATCH"
    INCONSISTENT_DIGESTS = "INCONSISTENT_DIGESTS"
    NO_END_ENTITY_CERTIFICATE = "NO_END_ENTITY_CERTIFICATE"
    MULTIPLE_SIGNERS = "MULTIPLE_SIGNERS"
    SIGNATURE_DUPLICATION = "SIGNATURE_DUPLICATION"
    CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT = "CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT"
    DOC_DATE_MISMATCH_CERT_NOT_AFTER = "DOC_DATE_MISMATCH_CERT_NOT_AFTER"
    DOC_DATE_MISMATCH_CERT_NOT_BEFORE = "DOC_DATE_MISMATCH_CERT_NOT_BEFORE"
    PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT = "PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT"
    PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT = "PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT"
    INVALID_CERT_KEY_USAGE = "INVALID_CERT_KEY_USAGE"
    CA_INACCESSIBILITY = "CA_INACCESSIBILITY"
    CERT_REVOKED = "CERT_REVOKED"
    INTERNAL_ERROR = "INTERNAL_ERROR"

    @property
    def info(self) -> CodeInfo:
        return _INFO[self]

    @property
    def remd_code(self) -> str:
        """The REMD code to answer with (the code itself unless it is gateway-only)."""
        return _INFO[self].remd_code

    @property
    def nsi_id(self) -> int | None:
        return _INFO[self].nsi_id

    @property
    def message(self) -> str:
        """REMD's own wording (or ours for gateway-only codes), in Russian."""
        return _INFO[self].message

    @property
    def message_en(self) -> str:
        """The same in English."""
        return _INFO[self].message_en


_C = SignatureErrorCode

_INFO: Final[dict[SignatureErrorCode, CodeInfo]] = {
    _C.NO_SIGNATURE: CodeInfo("NO_SIGNATURE", 21, "Отсутствуют подписи документа", "The document has no signatures"),
    _C.SIGNATURE_DECODING_ERROR: CodeInfo(
        "SIGNATURE_DECODING_ERROR", 41, "Ошибка декодирования ЭП", "The signature cannot be decoded"
    ),
    _C.WRONG_SIGNATURE_FORMAT: CodeInfo(
        "WRONG_SIGNATURE_FORMAT", 53, "Неподдерживаемый формат ЭП", "Unsupported signature format"
    ),
    _C.UNKNOWN_ALGORITHM: CodeInfo(
        "UNKNOWN_ALGORITHM", 44, "Неподдерживаемый алгоритм подписи", "Unsupported signature algorithm"
    ),
    _C.SIGNATURE_VERIFICATION_ERROR: CodeInfo(
        "SIGNATURE_VERIFICATION_ERROR", 42, "Подпись не верна", "The signature is not valid"
    ),
    _C.DIGEST_MISMATCH: CodeInfo(
        "DIGEST_MISMATCH",
        6,
        "Хеш-сумма документа не соответствует хеш-сумме, указанной в подписи",
        "The document's digest differs from the one in the signature",
    ),
    _C.INCONSISTENT_DIGESTS: CodeInfo(
        "INCONSISTENT_DIGESTS",
        10,
        "ЭП при одинаковых алгоритмах хеширования содержат разные хеш-суммы документов. ЭП от разных документов",
        "Signatures with the same digest algorithm hold different document digests: they sign different documents",
    ),
    _C.NO_END_ENTITY_CERTIFICATE: CodeInfo(
        "NO_END_ENTITY_CERTIFICATE",
        18,
        "В ЭП отсутствует сертификат проверки подписи",
        "The signature holds no signer certificate",
    ),
    _C.MULTIPLE_SIGNERS: CodeInfo(
        "MULTIPLE_SIGNERS",
        52,
        "В контейнере ЭП указано более одного подписанта",
        "The signature container names more than one signer",
    ),
    _C.SIGNATURE_DUPLICATION: CodeInfo("SIGNATURE_DUPLICATION", 51, "Дублирование подписи", "Duplicated signature"),
    _C.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT: CodeInfo(
        "CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT",
        4,
        "Не удалось построить цепочку сертификатов до аккредитованного удостоверяющего центра",
        "No certificate chain to an accredited certification authority could be built",
    ),
    _C.DOC_DATE_MISMATCH_CERT_NOT_AFTER: CodeInfo(
        "DOC_DATE_MISMATCH_CERT_NOT_AFTER",
        8,
        "Сертификат ЭП недействителен на дату создания документа "
        "(документ создан позже окончания срока действия сертификата)",
        "The signature certificate is not valid on the document's creation date "
        "(the document was created after the certificate expired)",
    ),
    _C.DOC_DATE_MISMATCH_CERT_NOT_BEFORE: CodeInfo(
        "DOC_DATE_MISMATCH_CERT_NOT_BEFORE",
        9,
        "Сертификат ЭП недействителен на дату создания документа "
        "(документ создан раньше начала срока действия сертификата)",
        "The signature certificate is not valid on the document's creation date "
        "(the document was created before the certificate became valid)",
    ),
    _C.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT: CodeInfo(
        "PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT",
        105,
        "Сертификат сотрудника недействителен на дату создания документа",
        "The employee's certificate is not valid on the document's creation date",
    ),
    _C.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT: CodeInfo(
        "PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT",
        125,
        "Сертификат сотрудника недействителен на дату проверки документа",
        "The employee's certificate is not valid on the date of the check",
    ),
    _C.INVALID_CERT_KEY_USAGE: CodeInfo(
        "INVALID_CERT_KEY_USAGE",
        12,
        "Область использования ключа ЭП не соответствует предъявляемым требованиям",
        "The signature key's usage does not meet the requirements",
    ),
    _C.CA_INACCESSIBILITY: CodeInfo(
        "CA_INACCESSIBILITY",
        62,
        "Адрес OCSP-службы не указан или недоступен и недоступен CRL",
        "No OCSP service is given or reachable, and no CRL is available",
    ),
    # REMD has no code of its own for revocation; it reports a revoked certificate as not valid on
    # the date of the check, which is what we map to.
    _C.CERT_REVOKED: CodeInfo(
        "PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT",
        125,
        "Сертификат ЭП отозван удостоверяющим центром",
        "The signature certificate was revoked by its certification authority",
    ),
    _C.INTERNAL_ERROR: CodeInfo("INTERNAL_ERROR", 11, "Внутренняя ошибка", "Internal error"),
}
