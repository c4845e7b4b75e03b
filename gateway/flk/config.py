"""Settings of the validation stage (signatures, role policy, FLK rules), section ``[validation]``.

Style as in :mod:`gateway.config`: unknown keys, wrong types and unknown rule names stop the process
at start. Paths that are empty fall back to the file of the same name under ``config/`` in the
working directory when it exists (as ``routing.routes_file`` does); a table that is neither
configured nor present switches off only the rule that needs it, and the report says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.common.shipped import shipped

__all__ = ["RULE_NAMES", "ReturnNoticeConfig", "ValidationConfig"]

# Every FLK rule, in the order its findings are reported (the first finding is the rejection code).
RULE_NAMES: tuple[str, ...] = (
    "document",
    "signatures-present",
    "metadata",
    "kind-validity",
    "semd-schema",
    "duplicate",
    "late-arrival",
    "invalid-signature",
    "role-policy",
    "dates",
    "wrong-region",
    "citizen-data",
    "examinations",
)

# A document that cannot be read leaves nothing to check: this one cannot be switched off.
MANDATORY_RULES: frozenset[str] = frozenset({"document"})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ReturnNoticeConfig(_Section):
    # Personal key and certificate of the MSE official who signs return notices (kind 130/108): PEM
    # files (PKCS#8 key as the test PKI writes it). Empty: the gateway cannot issue notices.
    signer_key_file: str = ""
    signer_cert_file: str = ""
    # CA certificates to embed next to the signer's (PEM bundle); empty: none embedded.
    chain_file: str = ""
    # The bureau's organisation key and certificate (optional second, organisation signature).
    org_key_file: str = ""
    org_cert_file: str = ""
    # The signer's position as the notice states it (NSI 1.2.643.5.1.13.13.11.1002 code and name).
    position_code: str = "2"
    position_name: str = "врач по медико-социальной экспертизе"


class ValidationConfig(_Section):
    # Directory of trusted CA certificates (every file is an anchor, like openssl -CApath). Empty:
    # no anchors, so no signature can be valid. A test-PKI directory (with pki.json) may be given:
    # its trust/ subdirectory is used.
    trust_dir: str = ""
    # CRL sources: files, directories of *.crl, or http(s) URLs (a test-PKI trust_dir brings its
    # crl/ directory). `serve` refuses to start without any unless require_revocation = false.
    crl_sources: list[str] = Field(default_factory=list)
    # Revocation checking. Unset (the default): required — `serve` refuses to start without CRL
    # sources, and a certificate no configured CRL covers is an error (CA_INACCESSIBILITY).
    # true: the same, stated. false: not required — `serve` starts without CRLs, with a warning
    # logged at every start (only where the network or another system checks revocation). Tools
    # other than `serve` (check, the sandbox, tests) without CRL sources check no revocation.
    require_revocation: bool | None = None
    # REMD takes one signer per CMS container: more than one is MULTIPLE_SIGNERS.
    single_signer: bool = True
    # Signed attributes with signingCertificate(V2) are mandatory (CAdES-BES).
    require_cades_bes: bool = False
    # The ministry's XSD + schematron packages (<dir>/<kind>.sch, <dir>/<kind>/CDA.xsd). Empty: the
    # ministry's structural validation is skipped and the report lists it under "skipped"; the
    # project's own schema for the Kazakh 031/у is always applied.
    semd_packages_dir: str = ""
    # Where compiled schematrons are cached across restarts. Empty: <storage.data_dir>/schematron.
    schematron_cache_dir: str = ""
    # Apply the packages' Schematron after their XSD (the ministry's validators do). false: the XSD
    # only — the Schematron of a referral costs ~50–110 ms of CPU, for a peer that runs it itself, or
    # to measure the rest (`bench delivery --no-schematron`).
    schematron: bool = True
    # Role policy (who must sign which kind). Empty: config/roles.toml if present, else built-in.
    roles_file: str = ""
    # Required examinations per diagnosis, Russia (order 402н/631н). Empty: config/required_exams_ru.tsv.
    required_exams_ru_file: str = ""
    # Mandatory examinations of the Kazakh pilot's nosologies. Empty: config/kz_nosologies.tsv.
    kz_nosologies_file: str = ""
    # Switch rules off by name, e.g. {"wrong-region" = false}. Unlisted rules are on.
    rules: dict[str, bool] = Field(default_factory=dict)
    # Region codes (subjects of the RF, two digits) the receiving MSE bureau serves. Empty: taken
    # from the routing rules for the document kind (explicit regions), else any region.
    served_regions: list[str] = Field(default_factory=list)
    # Clock skew tolerated before a creation date counts as "in the future".
    future_tolerance_minutes: float = Field(default=10.0, ge=0)
    # A birth date implying an older person than this is implausible.
    max_age_years: int = Field(default=120, gt=0)
    # Below this age (on the creation date) a legal representative is required.
    adult_age_years: int = Field(default=18, gt=0)
    # How many journal records one duplicate / late-arrival look-up reads at most.
    journal_lookup_limit: int = Field(default=20, gt=0, le=500)
    # The severity of findings from table rows marked verified=no (see docs/flk.md).
    unverified_rows_severity: Literal["warning", "error"] = "warning"
    return_notice: ReturnNoticeConfig = ReturnNoticeConfig()

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = sorted(set(value) - set(RULE_NAMES))
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(RULE_NAMES)}")
        off = sorted(name for name in MANDATORY_RULES if value.get(name) is False)
        if off:
            raise ValueError(f"rule(s) {', '.join(off)} cannot be switched off")
        return value

    @field_validator("served_regions")
    @classmethod
    def _region_codes(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not (v.isascii() and v.isdigit() and 1 <= len(v) <= 3)]
        if bad:
            raise ValueError(f"region codes are 1-3 digits: {bad}")
        return [v.zfill(2) for v in value]

    def revocation_required(self, crl_sources: list[str]) -> bool:
        """Whether a certificate no CRL covers is an error, given the CRL sources in effect."""
        if self.require_revocation is None:
            return bool(crl_sources)
        return self.require_revocation

    def rule_enabled(self, name: str) -> bool:
        return self.rules.get(name, True)

    def resolve(self, configured: str, default_name: str) -> Path | None:
        """The configured path, else the shipped ``config/<default_name>`` (the working directory's
        first, see gateway.common.shipped), else None."""
        if configured:
            return Path(configured)
        candidate = shipped(Path("config") / default_name)
        return candidate if candidate is not None and candidate.is_file() else None
