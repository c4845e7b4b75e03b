"""The gateway's full checker: structure, signatures, role policy and FLK rules, as one report.

:class:`FullChecker` implements :class:`gateway.validation.contract.Checker`. One instance lives for the
process (the verifier's caches, compiled schematrons and loaded tables are shared). The CPU-bound
part of a check — parsing, signature verification, XSD/schematron and the rules over the document
(:func:`offline_check`) — runs in a worker thread, or in validation worker processes when the
checker has a :class:`~gateway.flk.pool.ValidationPool`, so the event loop only waits. Rules that
need the journal (duplicate, late arrival) run when the checker has a
:class:`~gateway.flk.journal_view.JournalView`; a dry run (``/api/v1/check``) uses
:meth:`FullChecker.with_journal(None) <FullChecker.with_journal>` and the report lists them under
``skipped``.

Report: ``{passed, signatures, roles, flk, warnings, skipped, checked_at, document}`` — ``flk``
holds the findings that fail the check, ordered by rule (:data:`~gateway.flk.config.RULE_NAMES`),
so the first one is the rejection reason; ``warnings`` those that do not.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lxml import etree

from gateway.common.language import Text
from gateway.common.logs import get_logger
from gateway.delivery.routing import Router
from gateway.documents import BUILTIN_PACKAGES_DIR, ParsedDocument, SemdPackages, ValidationReport
from gateway.flk import rules
from gateway.flk.codes import FlkCode
from gateway.flk.config import RULE_NAMES, ValidationConfig
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.journal_view import JournalEntry, JournalView, document_sha256
from gateway.flk.kz_nosologies import KzGroup, load_kz_nosologies
from gateway.flk.messages import FLK_TEXTS, SKIP_TEXTS
from gateway.flk.required_exams import ExamGroup, load_required_exams
from gateway.flk.roles import BUILTIN_POLICY, RolePolicy, check_roles, load_role_policy
from gateway.flk.rules.journal import DECISION_KINDS, REFERRAL_KINDS
from gateway.flk.signatures import (
    SignatureCheck,
    invalid_signature_findings,
    signatures_present_findings,
    signatures_report,
    verify_entries_sync,
)
from gateway.intake.submission import CanonicalSubmission
from gateway.signatures import Verifier, VerifyPolicy
from gateway.validation.contract import Report
from gateway.wire.safexml import DEFAULT_MAX_BYTES, XmlSecurityError, XmlSyntaxError, parse_xml

if TYPE_CHECKING:
    from gateway.flk.pool import ValidationPool

__all__ = ["FullChecker", "resolve_trust"]

_log: Final = get_logger(__name__)
_ORDER: Final = {name: i for i, name in enumerate(RULE_NAMES)}


def resolve_trust(path: Path | None, crls: Sequence[str] = ()) -> tuple[Path | None, list[str]]:
    """A trust directory and CRL sources; a test-PKI directory (with ``pki.json``) stands for its
    ``trust/`` directory and, when no CRLs are given, its ``crl/`` directory."""
    if path is None:
        return None, list(crls)
    if (path / "pki.json").is_file():
        return path / "trust", list(crls) or [str(path / "crl")]
    return path, list(crls)


class FullChecker:
    """Checks one submission completely. Thread- and task-safe; share one per process."""

    def __init__(
        self,
        *,
        verifier: Verifier,
        config: ValidationConfig | None = None,
        policy: RolePolicy = BUILTIN_POLICY,
        journal: JournalView | None = None,
        packages: SemdPackages | None = None,
        ru_exams: Sequence[ExamGroup] | None = None,
        kz_groups: dict[str, KzGroup] | None = None,
        router: Router | None = None,
        clock: Callable[[], datetime] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        pool: ValidationPool | None = None,
    ) -> None:
        self.verifier = verifier
        self.config = config or ValidationConfig()
        self.policy = policy
        self.journal = journal
        self.packages = packages
        self.builtin_packages = SemdPackages(BUILTIN_PACKAGES_DIR)
        self.ru_exams = ru_exams
        self.kz_groups = kz_groups
        self.router = router
        self.clock = clock or (lambda: datetime.now(UTC))
        self.max_bytes = max_bytes
        # Worker processes for the CPU-bound part; None: a thread of this process.
        self.pool = pool

    @classmethod
    def from_config(
        cls,
        config: ValidationConfig,
        *,
        journal: JournalView | None = None,
        router: Router | None = None,
        data_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        pool: ValidationPool | None = None,
    ) -> FullChecker:
        """Build everything the configuration names (ConfigError / table errors at start, not per
        document)."""
        trust, crls = resolve_trust(Path(config.trust_dir) if config.trust_dir else None, config.crl_sources)
        verifier = Verifier(
            trust,
            crls or None,
            policy=VerifyPolicy(
                single_signer=config.single_signer,
                require_cades_bes=config.require_cades_bes,
                require_revocation=config.revocation_required(crls),
            ),
        )
        cache = Path(config.schematron_cache_dir) if config.schematron_cache_dir else None
        if cache is None and data_dir is not None and data_dir.is_dir():  # `check` leaves no ./var behind
            cache = data_dir / "schematron"
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
        # The operator's packages (a newer edition) win kind by kind over the shipped ones.
        packages = SemdPackages(Path(config.semd_packages_dir), cache_dir=cache) if config.semd_packages_dir else None
        ru_path = config.resolve(config.required_exams_ru_file, "required_exams_ru.tsv")
        kz_path = config.resolve(config.kz_nosologies_file, "kz_nosologies.tsv")
        checker = cls(
            verifier=verifier,
            config=config,
            policy=load_role_policy(config.resolve(config.roles_file, "roles.toml")),
            journal=journal,
            packages=packages,
            ru_exams=load_required_exams(ru_path) if ru_path is not None else None,
            kz_groups=load_kz_nosologies(kz_path) if kz_path is not None else None,
            router=router,
            clock=clock,
            max_bytes=max_bytes,
            pool=pool,
        )
        checker.builtin_packages = SemdPackages(BUILTIN_PACKAGES_DIR, cache_dir=cache)
        return checker

    def with_journal(self, journal: JournalView | None) -> FullChecker:
        """The same checker (sharing verifier, tables, schematrons) with another journal view;
        None for dry runs."""
        clone = copy.copy(self)
        clone.journal = journal
        return clone

    # ------------------------------------------------------------------------------------- check

    async def check(self, submission: CanonicalSubmission) -> Report:
        run = _Run(self, submission, self.clock())
        return await run.execute()

    async def _offline(self, sub: CanonicalSubmission, now: datetime) -> OfflinePart:
        if self.pool is not None:
            return await self.pool.run(sub, now)
        return await asyncio.to_thread(offline_check, self, sub, now)


@dataclass
class OfflinePart:
    """What a check finds without the journal: the parsed document, the findings and skipped
    rules so far, and the report's signature and role sections. Picklable, so that a validation
    worker process can compute it."""

    doc: ParsedDocument | None
    findings: list[RuleFinding]
    skipped: list[dict[str, str]]
    signatures: dict[str, Any]
    roles: list[dict[str, Any]]


class _Rules:
    """Findings and skipped rules of one check, and how rules are switched and guarded."""

    def __init__(self, checker: FullChecker, sub: CanonicalSubmission, now: datetime) -> None:
        self.c = checker
        self.sub = sub
        self.now = now
        self.findings: list[RuleFinding] = []
        self.skipped: list[dict[str, str]] = []

    def on(self, rule: str) -> bool:
        if self.c.config.rule_enabled(rule):
            return True
        self.skip(rule, SKIP_TEXTS.text("disabled"))
        return False

    def skip(self, rule: str, reason: Text) -> None:
        self.skipped.append({"rule": rule, "reason": reason.ru, "reason_en": reason.en})

    def crashed(self, rule: str, exc: BaseException) -> None:
        """A defect in a rule holds the submission (FLK_INTERNAL_ERROR); it never lets it through."""
        # The traceback goes to the log (masked line by line): "KeyError" alone did not say where.
        _log.error("flk rule failed", rule=rule, error=type(exc).__name__, exc_info=exc)
        message = FLK_TEXTS.text("checker.internal", rule=rule)
        self.findings.append(finding(rule, FlkCode.INTERNAL_ERROR, "other", message))

    def guarded(self, rule: str, call: Callable[[], list[RuleFinding]]) -> None:
        try:
            self.findings.extend(call())
        except Exception as exc:
            self.crashed(rule, exc)


def offline_check(checker: FullChecker, sub: CanonicalSubmission, now: datetime) -> OfflinePart:
    """Everything but the journal rules, synchronously: parsing, signatures, schema and the rules
    over the document. CPU-bound; runs in a worker thread or a validation process."""
    return _Offline(checker, sub, now).run()


class _Offline(_Rules):
    # The CDA, parsed once for the model and for the XSD/Schematron (both only read it); None when
    # it does not parse — then each of them parses the bytes to report why, in its own words.
    root: etree._Element | None = None

    def _parse(self) -> tuple[ParsedDocument | None, list[RuleFinding]]:
        try:
            self.root = parse_xml(self.sub.document, max_bytes=self.c.max_bytes)
        except (XmlSecurityError, XmlSyntaxError):
            self.root = None
        try:
            return rules.parse_rule(self.sub, max_bytes=self.c.max_bytes, root=self.root)
        except Exception as exc:
            self.crashed("document", exc)
            return None, []

    def _schema(self) -> tuple[ValidationReport | None, Text | None]:
        sets = [p for p in (self.c.packages, self.c.builtin_packages) if p is not None]
        data = self.sub.document if self.root is None else self.root
        try:
            report, reason = rules.run_schema(sets, self.sub.kind, data, schematron=self.c.config.schematron)
        except Exception as exc:
            self.crashed("semd-schema", exc)
            return None, None
        if report is None and reason is not None and self.c.packages is None:
            hint = SKIP_TEXTS.text("no_package_hint")
            reason = Text(reason.ru + hint.ru, reason.en + hint.en)
        return report, reason

    def _verify(self) -> list[SignatureCheck]:
        if not self.sub.signatures:
            return []
        try:
            return verify_entries_sync(self.c.verifier, self.sub, check_time=self.now)
        except Exception as exc:  # the engine reports verdicts; an exception is a defect
            self.crashed("invalid-signature", exc)
            return []

    def run(self) -> OfflinePart:
        sub, cfg = self.sub, self.c.config
        schema_on = self.on("semd-schema")
        doc, parse_findings = self._parse()
        checks = self._verify()
        schema_report, schema_reason = self._schema() if schema_on else (None, None)
        self.findings.extend(parse_findings)
        if self.on("signatures-present"):
            self.guarded("signatures-present", lambda: signatures_present_findings(sub))
        if self.on("kind-validity"):
            self.guarded("kind-validity", lambda: rules.kind_validity_findings(sub))
        if self.on("invalid-signature"):
            self.guarded("invalid-signature", lambda: invalid_signature_findings(checks))
        roles_out: list[dict[str, Any]] = []
        if self.on("role-policy"):

            def roles_rule() -> list[RuleFinding]:
                found, entries = check_roles(self.c.policy, sub, doc, checks)
                roles_out.extend(entries)
                return found

            self.guarded("role-policy", roles_rule)
        if self.on("dates"):
            tolerance = timedelta(minutes=cfg.future_tolerance_minutes)
            self.guarded("dates", lambda: rules.dates_findings(sub, checks, now=self.now, tolerance=tolerance))
        if schema_on:
            if schema_report is not None:
                report = schema_report
                self.guarded("semd-schema", lambda: rules.schema_findings(report))
            elif schema_reason is not None:
                self.skip("semd-schema", schema_reason)
        if doc is not None:
            self._document_rules(doc)
        else:
            for rule in ("metadata", "wrong-region", "citizen-data", "examinations"):
                if cfg.rule_enabled(rule):
                    self.skip(rule, SKIP_TEXTS.text("not_parsed"))
        return OfflinePart(doc, self.findings, self.skipped, signatures_report(checks), roles_out)

    def _document_rules(self, doc: ParsedDocument) -> None:
        sub, cfg = self.sub, self.c.config
        if self.on("metadata"):
            self.guarded("metadata", lambda: rules.metadata_findings(sub, doc))
        if self.on("wrong-region"):
            served = rules.served_regions(sub.kind, cfg.served_regions, self.c.router)
            self.guarded("wrong-region", lambda: rules.wrong_region_findings(sub, doc, served))
        if self.on("citizen-data"):
            self.guarded(
                "citizen-data",
                lambda: rules.citizen_findings(
                    sub, doc, max_age_years=cfg.max_age_years, adult_age_years=cfg.adult_age_years
                ),
            )
        if self.on("examinations"):
            self._examinations(doc)

    def _examinations(self, doc: ParsedDocument) -> None:
        cfg = self.c.config
        ru, kz = self.c.ru_exams, self.c.kz_groups
        if doc.kind.value in REFERRAL_KINDS:
            if ru is None:
                self.skip("examinations", SKIP_TEXTS.text("no_exams_table"))
            else:
                self.guarded(
                    "examinations",
                    lambda: rules.ru_examination_findings(
                        doc,
                        ru,
                        adult_age_years=cfg.adult_age_years,
                        unverified_severity=cfg.unverified_rows_severity,
                    ),
                )
        elif doc.kind.value == "kz-031u":
            if kz is None:
                self.skip("examinations", SKIP_TEXTS.text("no_nosologies"))
            else:
                self.guarded(
                    "examinations",
                    lambda: rules.kz_examination_findings(
                        doc,
                        kz,
                        adult_age_years=cfg.adult_age_years,
                        unverified_severity=cfg.unverified_rows_severity,
                    ),
                )


class _Run(_Rules):
    """One check: the offline part (in a thread or a worker process), then the journal rules."""

    async def guarded_async(self, rule: str, call: Callable[[], Awaitable[list[RuleFinding]]]) -> None:
        try:
            self.findings.extend(await call())
        except Exception as exc:
            self.crashed(rule, exc)

    async def execute(self) -> Report:
        try:
            part = await self.c._offline(self.sub, self.now)
        except Exception as exc:  # a worker process died: hold the submission, never let it through
            self.crashed("document", exc)
            part = OfflinePart(None, [], [], signatures_report([]), [])
        self.findings.extend(part.findings)
        self.skipped.extend(part.skipped)
        await self._journal_rules(part.doc)
        return self._report(part)

    async def _journal_rules(self, doc: ParsedDocument | None) -> None:
        sub = self.sub
        journal = self.c.journal
        wanted = [r for r in ("duplicate", "late-arrival") if self.on(r)]
        if not wanted:
            return
        if journal is None:
            for rule in wanted:
                self.skip(rule, SKIP_TEXTS.text("no_journal"))
            return
        patient = sub.patient_id
        if patient is None and doc is not None:
            patient = doc.patient.snils or doc.patient.iin
        view = journal
        if "duplicate" in wanted:

            async def duplicates() -> list[RuleFinding]:
                me = (sub.source_system, sub.local_uid)
                entries: list[JournalEntry] = list(
                    await view.by_local_uid(sub.kind, sub.organization_oid, sub.local_uid, exclude=me)
                )
                if doc is not None and doc.local_uid != sub.local_uid:
                    entries += await view.by_local_uid(sub.kind, sub.organization_oid, doc.local_uid, exclude=me)
                if patient is not None:
                    entries += await view.by_patient(patient, [sub.kind], exclude=me)
                return rules.duplicate_findings(sub, doc, entries, document_sha256(sub.document))

            await self.guarded_async("duplicate", duplicates)
        if "late-arrival" in wanted:
            if sub.kind not in REFERRAL_KINDS:
                return
            if patient is None:
                self.skip("late-arrival", SKIP_TEXTS.text("no_patient_id"))
                return
            pid = patient

            async def late() -> list[RuleFinding]:
                return rules.late_arrival_findings(sub, doc, await view.by_patient(pid, DECISION_KINDS))

            await self.guarded_async("late-arrival", late)

    def _report(self, part: OfflinePart) -> Report:
        ordered = sorted(self.findings, key=lambda f: _ORDER.get(f.rule, len(_ORDER)))
        errors = tuple(f for f in ordered if f.severity == "error")
        warnings = [f.to_dict() for f in ordered if f.severity != "error"]
        doc = part.doc
        return Report(
            findings=errors,
            signatures=part.signatures,
            roles=tuple(part.roles),
            extra={
                "warnings": warnings,
                "skipped": self.skipped,
                "checked_at": self.now.isoformat(),
                "document": None if doc is None else {"kind": doc.kind.value, "local_uid": doc.local_uid},
            },
        )
