"""Structural validation with the ministry's own artifacts, loaded from a configured directory.

Layout (the same as the ministry's downloads and ``1CMedicine/semd_validator/data``)::

    <packages_dir>/<kind>.sch          ISO Schematron (optional per kind)
    <packages_dir>/<kind>/CDA.xsd      XSD entry point (or the only *.xsd at that level)
    <packages_dir>/<kind>/...          what it includes (coreschemas/ etc.)

Operators replace these files when the ministry publishes a new edition; nothing about an edition
is baked into the code. XSDs are loaded without network access and may include only files inside
their own package directory. Compiled schematrons are cached by content hash (see
:mod:`gateway.documents.schematron`), so a replaced file is picked up on the next load.

The project's own schemas (the Kazakh 031/у) ship in the same layout under
:data:`BUILTIN_PACKAGES_DIR`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from lxml import etree

from gateway.documents.errors import SemdPackageError
from gateway.documents.schematron import CompiledSchematron, SchematronFailure, compile_schematron
from gateway.wire.safexml import make_parser, parse_xml

__all__ = [
    "BUILTIN_PACKAGES_DIR",
    "SemdPackage",
    "SemdPackages",
    "ValidationReport",
    "XsdError",
]

BUILTIN_PACKAGES_DIR: Final = Path(__file__).with_name("packages")


@dataclass(frozen=True, slots=True)
class XsdError:
    line: int
    message: str
    path: str | None


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating one document against one kind's package.

    The schematron runs only when the XSD passes (as the ministry's validators do: its rules assume
    a schema-valid document); ``schematron_ran`` says whether it did.
    """

    kind: str
    xsd_errors: tuple[XsdError, ...]
    schematron_failures: tuple[SchematronFailure, ...]
    schematron_ran: bool
    has_schematron: bool

    @property
    def ok(self) -> bool:
        return not self.xsd_errors and not any(f.severity == "error" for f in self.schematron_failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ok": self.ok,
            "xsd_errors": [{"line": e.line, "message": e.message, "path": e.path} for e in self.xsd_errors],
            "schematron_ran": self.schematron_ran,
            "schematron_failures": [
                {"rule_id": f.rule_id, "location": f.location, "message": f.message, "severity": f.severity}
                for f in self.schematron_failures
            ],
        }


class _PackageResolver(etree.Resolver):
    """Resolve xs:include/xs:import only to files inside the package directory."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self._root = root.resolve()

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        if not system_url:
            return None
        url = system_url.removeprefix("file://")
        if "://" in url:
            raise SemdPackageError(f"schema reference outside the package refused: {system_url}")
        target = Path(url).resolve()
        if not target.is_relative_to(self._root):
            raise SemdPackageError(f"schema reference outside the package refused: {system_url}")
        return cast(Any, self).resolve_filename(str(target), context)


@dataclass(frozen=True, slots=True)
class SemdPackage:
    """One kind's validation files."""

    kind: str
    xsd: Path | None
    schematron: Path | None


class SemdPackages:
    """The validation packages in ``directory``; thread-safe, loads lazily and caches.

    ``cache_dir`` (a writable data directory) keeps compiled schematrons across restarts; without
    it they are compiled once per process.
    """

    def __init__(self, directory: Path, *, cache_dir: Path | None = None) -> None:
        if not directory.is_dir():
            raise SemdPackageError(f"validation packages directory not found: {directory}")
        self.directory = directory
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._schemas: dict[tuple[Path, float], etree.XMLSchema] = {}

    def kinds(self) -> list[str]:
        """Kinds that have an XSD or a schematron here, sorted."""
        found = {p.stem for p in self.directory.glob("*.sch")}
        found |= {p.name for p in self.directory.iterdir() if p.is_dir() and any(p.glob("*.xsd"))}
        return sorted(found)

    def package(self, kind: str) -> SemdPackage:
        if not kind or "/" in kind or "\\" in kind or kind.startswith("."):
            raise SemdPackageError(f"invalid kind {kind!r}")
        sch = self.directory / f"{kind}.sch"
        return SemdPackage(kind=kind, xsd=self._xsd_entry(kind), schematron=sch if sch.is_file() else None)

    def _xsd_entry(self, kind: str) -> Path | None:
        folder = self.directory / kind
        if not folder.is_dir():
            return None
        cda = folder / "CDA.xsd"
        if cda.is_file():
            return cda
        candidates = sorted(folder.glob("*.xsd"))
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise SemdPackageError(
                f"package {kind}: several top-level XSDs and no CDA.xsd: {[c.name for c in candidates]}"
            )
        return None

    def schema(self, kind: str) -> etree.XMLSchema | None:
        """The compiled XSD of ``kind`` (None when the package has none)."""
        entry = self.package(kind).xsd
        if entry is None:
            return None
        key = (entry, entry.stat().st_mtime)
        with self._lock:
            cached = self._schemas.get(key)
            if cached is not None:
                return cached
            parser = make_parser()
            parser.resolvers.add(_PackageResolver(entry.parent))
            try:
                tree = etree.parse(str(entry), parser)
                schema = etree.XMLSchema(tree)
            except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
                raise SemdPackageError(f"package {kind}: cannot load {entry.name}: {exc}") from exc
            self._schemas[key] = schema
            return schema

    def compiled_schematron(self, kind: str) -> CompiledSchematron | None:
        sch = self.package(kind).schematron
        return compile_schematron(sch, cache_dir=self.cache_dir) if sch is not None else None

    def validate(self, kind: str, data: bytes | etree._Element, *, schematron: bool = True) -> ValidationReport:
        """Validate a document against ``kind``'s XSD, then (if it passes and ``schematron``) its
        schematron.

        Raises :class:`SemdPackageError` when the directory has nothing for ``kind`` — an operator
        problem, not the sender's — and ``XmlSecurityError``/``XmlSyntaxError`` for hostile or
        malformed bytes.
        """
        package = self.package(kind)
        if package.xsd is None and package.schematron is None:
            raise SemdPackageError(f"no validation package for kind {kind} in {self.directory}")
        root = parse_xml(data) if isinstance(data, bytes) else data
        xsd_errors: tuple[XsdError, ...] = ()
        schema = self.schema(kind)
        if schema is not None:
            with self._lock:
                valid = schema.validate(root)
                log: list[Any] = list(cast(Iterable[Any], schema.error_log))
            if not valid:
                xsd_errors = tuple(XsdError(e.line, e.message, e.path) for e in log)
        failures: tuple[SchematronFailure, ...] = ()
        ran = False
        if schematron and package.schematron is not None and not xsd_errors:
            compiled = self.compiled_schematron(kind)
            assert compiled is not None
            failures = compiled.validate(root)
            ran = True
        return ValidationReport(
            kind=kind,
            xsd_errors=xsd_errors,
            schematron_failures=failures,
            schematron_ran=ran,
            has_schematron=package.schematron is not None,
        )
