"""Format-logical control (FLK): the gateway's full check of a submission.

- :class:`FullChecker` (``checker.py``) implements :class:`gateway.validation.contract.Checker`: structure,
  the ministry's XSD + schematron, signature verification over the exact document bytes, the role
  policy (``config/roles.toml``) and the FLK rules (``rules/``), as one report.
- :class:`ValidationConfig` (``config.py``): the ``[validation]`` configuration section.
- :class:`JournalView` (``journal_view.py``): the read-only journal queries of the duplicate and
  late-arrival rules; :class:`JournalReader` answers them from the journal.
- :func:`make_submission` (``samples.py``): one signed valid submission, fast (the vendors'
  sample set built from it is :mod:`gateway.sandbox.sample_set`); :class:`SampleSigners`
  (``sample_pki.py``) holds the sandbox test PKI.
- :func:`build_return_notice` (``return_notice.py``): the kind-130 notice for a rejected referral.
- :func:`build_signed_result` / :func:`build_signed_return_notice` (``decisions.py``): the bureau's
  signed result (187) and return notice (130) for a referral, from given decision data.

See docs/flk.md.
"""

from gateway.flk.checker import FullChecker
from gateway.flk.codes import FlkCode
from gateway.flk.config import RULE_NAMES, ReturnNoticeConfig, ValidationConfig
from gateway.flk.decisions import MseDecision, SignedDocument, build_signed_result, build_signed_return_notice
from gateway.flk.findings import RuleFinding
from gateway.flk.journal_view import JournalEntry, JournalReader, JournalView, StaticJournalView
from gateway.flk.return_notice import NoticeSigner, ReturnNotice, build_return_notice
from gateway.flk.roles import RolePolicy, load_role_policy
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission

__all__ = [
    "RULE_NAMES",
    "FlkCode",
    "FullChecker",
    "JournalEntry",
    "JournalReader",
    "JournalView",
    "MseDecision",
    "NoticeSigner",
    "ReturnNotice",
    "ReturnNoticeConfig",
    "RolePolicy",
    "RuleFinding",
    "SampleSigners",
    "SignedDocument",
    "StaticJournalView",
    "ValidationConfig",
    "build_return_notice",
    "build_signed_result",
    "build_signed_return_notice",
    "load_role_policy",
    "make_submission",
]
