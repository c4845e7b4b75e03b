"""Run the ministry's ISO Schematron files (``queryBinding="xslt2"``) with SaxonC-HE.

lxml's isoschematron is XSLT 1.0 only and cannot run these files, so a schematron is compiled to
XSLT 2.0 by the vendored SchXslt pipeline (``_schxslt/``, MIT) under Saxon and the result is applied
to the document. Compiling the 121 schematron (≈500 KB, ≈1500 asserts) is the slow part, so the
generated XSLT is cached on disk under ``cache_dir`` keyed by the SHA-256 of the schematron bytes
(plus the compiler's identity), and the compiled executable is kept in memory for the process.

The schematrons address CDA elements without a namespace prefix and declare no default namespace,
exactly like the public validators that run them (which strip ``xmlns="urn:hl7-org:v3"`` first): the
document is therefore handed to Saxon with the HL7 v3 namespace removed from element names. Russian
extension namespaces (``identity:``, ``address:``, ``fias:``, ``medService:``, ``PII:``) are kept.

Saxon calls are serialised behind one lock: SaxonC's thread behaviour under CPython is not something
to bet a medical document on, and validation is CPU-bound anyway (run it in a worker thread from
async code).
"""

from __future__ import annotations

import copy as copy_module
import hashlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from lxml import etree

from gateway.documents.errors import SemdPackageError
from gateway.wire.safexml import parse_xml

__all__ = [
    "DYNAMIC_ERROR_RULE_ID",
    "CompiledSchematron",
    "SchematronFailure",
    "compile_schematron",
    "strip_hl7_namespace",
]

DYNAMIC_ERROR_RULE_ID: Final = "SCHEMATRON_DYNAMIC_ERROR"
HL7_NS: Final = "urn:hl7-org:v3"
SVRL_NS: Final = "http://purl.oclc.org/dsdl/svrl"
_SCHXSLT_DIR: Final = Path(__file__).with_name("_schxslt")
_PIPELINE: Final = _SCHXSLT_DIR / "pipeline-for-svrl.xsl"
# Bump when the vendored compiler or the way we call it changes: old cached XSLT is then ignored.
_COMPILER_ID: Final = "schxslt-1.10.1/pipeline-for-svrl/v1"
# "У1-20. Элемент ...", "Core02-1. ...", "Extra01-1. ...": the ministry numbers rules in the text.
_LABEL_RE: Final = re.compile(r"^\s*([A-Za-zА-Яа-яЁё]+[0-9]+(?:[-_][0-9]+)*)\.")
_QNAME_RE: Final = re.compile(r"Q\{([^}]*)\}")

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class SchematronFailure:
    """One failed assert or fired report, in the ministry's words.

    ``rule_id`` is the assert/report ``@id`` when the schematron gives one; the ministry's files
    give none, so it falls back to the rule number that opens the message ("У1-20", "Core02-1") or,
    for the unnumbered common checks, to the message's first sentence ("Общие ограничения").
    """

    rule_id: str
    location: str
    message: str
    severity: Severity
    test: str
    kind: Literal["assert", "report"]


_lock = threading.RLock()
_processor: Any = None
_executables: dict[str, CompiledSchematron] = {}
_xslt_texts: dict[str, str] = {}  # the generated XSLT per key, to seed other cache directories


def _saxon() -> Any:
    """The process-wide Saxon processor (created on first use; importing saxonche is slow)."""
    global _processor
    if _processor is None:
        try:
            from saxonche import PySaxonProcessor
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise SemdPackageError(
                "saxonche (SaxonC-HE) is not installed: schematron validation is unavailable"
            ) from exc
        _processor = PySaxonProcessor(license=False)
    return _processor


def _compiler_identity() -> str:
    proc = _saxon()
    return f"{_COMPILER_ID}/{proc.version}"


def _key(sch_bytes: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(_compiler_identity().encode())
    digest.update(b"\0")
    digest.update(sch_bytes)
    return digest.hexdigest()


class CompiledSchematron:
    """A schematron compiled to a Saxon XSLT executable; apply it with :meth:`validate`."""

    def __init__(self, *, key: str, source: Path, executable: Any, xslt_from_cache: bool) -> None:
        self.key = key
        self.source = source
        self._executable = executable
        self.xslt_from_cache = xslt_from_cache

    def validate(self, document: etree._Element | bytes) -> tuple[SchematronFailure, ...]:
        """Apply the rules to ``document`` and return every failure (empty when it passes).

        Bytes are parsed with :func:`gateway.wire.safexml.parse_xml` first; an element is used as is
        (it is copied, never modified).
        """
        root = parse_xml(document) if isinstance(document, bytes) else document
        text = etree.tostring(strip_hl7_namespace(root), encoding="unicode")
        with _lock:
            proc = _saxon()
            node = proc.parse_xml(xml_text=text)
            try:
                svrl = self._executable.transform_to_string(xdm_node=node)
            except Exception as exc:
                # Some of the ministry's tests raise XPath dynamic errors on incomplete documents
                # (e.g. matches() on an absent setId/@root). The document is invalid either way:
                # say so as one failure instead of crashing the caller.
                return (
                    SchematronFailure(
                        rule_id=DYNAMIC_ERROR_RULE_ID,
                        location="/",
                        message=(
                            "Проверка схематроном прервана ошибкой вычисления правила "
                            f"(документ неполон или некорректен): {exc}"
                        ),
                        severity="error",
                        test="",
                        kind="assert",
                    ),
                )
        if not svrl:
            raise SemdPackageError(f"schematron {self.source.name} produced no report")
        return parse_svrl(svrl.encode("utf-8"))


def strip_hl7_namespace(root: etree._Element) -> etree._Element:
    """A copy of ``root`` whose ``urn:hl7-org:v3`` elements have no namespace (see module doc)."""
    copy = copy_module.deepcopy(root)
    prefix = "{" + HL7_NS + "}"
    for element in copy.iter():
        tag = element.tag
        if isinstance(tag, str) and tag.startswith(prefix):
            element.tag = tag[len(prefix) :]
    etree.cleanup_namespaces(copy)
    return copy


def parse_svrl(svrl: bytes) -> tuple[SchematronFailure, ...]:
    """Turn a SchXslt SVRL report into failures, in document order."""
    report = parse_xml(svrl, max_bytes=200 * 1024 * 1024)
    failures: list[SchematronFailure] = []
    for element in report.iter(f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report"):
        kind: Literal["assert", "report"] = "assert" if etree.QName(element).localname == "failed-assert" else "report"
        text_el = element.find(f"{{{SVRL_NS}}}text")
        message = " ".join("".join(map(str, text_el.itertext())).split()) if text_el is not None else ""
        failures.append(
            SchematronFailure(
                rule_id=element.get("id") or _label(message),
                location=_readable_location(element.get("location", "")),
                message=message,
                severity=_severity(element.get("role") or element.get("flag")),
                test=element.get("test", ""),
                kind=kind,
            )
        )
    return tuple(failures)


def _label(message: str) -> str:
    match = _LABEL_RE.match(message)
    if match:
        return match.group(1)
    first = message.split(".", 1)[0].strip()
    return first if 0 < len(first) <= 40 else "UNLABELLED"


def _severity(role: str | None) -> Severity:
    role = (role or "").lower()
    if role in {"warning", "warn"}:
        return "warning"
    if role in {"info", "information"}:
        return "info"
    return "error"


_KNOWN_PREFIXES: Final = {
    "": "",
    HL7_NS: "",
    "urn:hl7-ru:identity": "identity:",
    "urn:hl7-ru:address": "address:",
    "urn:hl7-ru:fias": "fias:",
    "urn:hl7-ru:medService": "medService:",
    "urn:hl7-ru:PII": "PII:",
}


def _readable_location(location: str) -> str:
    """``/Q{}ClinicalDocument[1]/Q{urn:hl7-ru:identity}Props[1]`` → ``/ClinicalDocument[1]/identity:Props[1]``."""
    return _QNAME_RE.sub(lambda m: _KNOWN_PREFIXES.get(m.group(1), "{" + m.group(1) + "}"), location)


def compile_schematron(sch_path: Path, *, cache_dir: Path | None = None) -> CompiledSchematron:
    """Compile ``sch_path`` (or take it from the caches) and return it ready to validate.

    The in-memory cache makes repeated calls free; the on-disk cache (when ``cache_dir`` is given)
    saves the schematron → XSLT step across restarts. A corrupt cache file is recompiled.
    """
    try:
        sch_bytes = sch_path.read_bytes()
    except OSError as exc:
        raise SemdPackageError(f"cannot read schematron {sch_path}: {exc}") from exc
    with _lock:
        key = _key(sch_bytes)
        cache_file = cache_dir / f"schematron-{key[:32]}.xsl" if cache_dir is not None else None
        cached = _executables.get(key)
        if cached is not None:
            # Compiled already (the shipped package and an operator's copy of the same edition share
            # it): still leave the XSLT in this cache directory, for the next process to start fast.
            if cache_file is not None and not cache_file.is_file() and key in _xslt_texts:
                _write_atomically(cache_file, _xslt_texts[key])
            return cached
        proc = _saxon()
        xslt_text: str | None = None
        from_cache = False
        if cache_file is not None and cache_file.is_file():
            xslt_text = cache_file.read_text(encoding="utf-8")
            from_cache = True
        if xslt_text is None:
            xslt_text = _to_xslt(proc, sch_path, sch_bytes)
            if cache_file is not None:
                _write_atomically(cache_file, xslt_text)
        try:
            executable = _compile_xslt(proc, xslt_text, sch_path)
        except SemdPackageError:
            if not from_cache:
                raise
            xslt_text = _to_xslt(proc, sch_path, sch_bytes)
            assert cache_file is not None
            _write_atomically(cache_file, xslt_text)
            executable = _compile_xslt(proc, xslt_text, sch_path)
            from_cache = False
        compiled = CompiledSchematron(key=key, source=sch_path, executable=executable, xslt_from_cache=from_cache)
        _executables[key] = compiled
        _xslt_texts[key] = xslt_text
        return compiled


def _to_xslt(proc: Any, sch_path: Path, sch_bytes: bytes) -> str:
    # Refuse a DOCTYPE/entities in the schematron too: it comes from an operator's directory.
    parse_xml(sch_bytes, max_bytes=50 * 1024 * 1024)
    xslt = proc.new_xslt30_processor()
    try:
        pipeline = xslt.compile_stylesheet(stylesheet_file=str(_PIPELINE))
        text = pipeline.transform_to_string(source_file=str(sch_path))
    except Exception as exc:  # saxonche raises PySaxonApiError, not importable everywhere
        raise SemdPackageError(f"cannot compile schematron {sch_path.name}: {exc}") from exc
    if not text:
        raise SemdPackageError(f"compiling schematron {sch_path.name} produced nothing")
    return str(text)


def _compile_xslt(proc: Any, xslt_text: str, sch_path: Path) -> Any:
    xslt = proc.new_xslt30_processor()
    try:
        return xslt.compile_stylesheet(stylesheet_text=xslt_text)
    except Exception as exc:
        raise SemdPackageError(f"compiled schematron {sch_path.name} is not valid XSLT: {exc}") from exc


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
