"""The reconstructed REMD WSDL/XSD (wsdl/remd/), loaded offline by zeep and lxml.

zeep is given a transport that refuses every non-file URL, so loading can never reach the network
(the files import each other by relative path only). The directory is found in this order: the
``MSE_GATEWAY_WSDL_DIR`` environment variable (a directory holding ``remd/``), then ``wsdl/remd``
under the working directory, the checkout, and an installed wheel's share directory
(gateway.common.shipped).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any, Final

import zeep
from lxml import etree
from zeep.transports import Transport

from gateway.common.shipped import search_bases
from gateway.wire.safexml import make_parser

__all__ = [
    "CALLBACK_WSDL",
    "SERVICE_WSDL",
    "WsdlNotFound",
    "callback_schema",
    "callback_zeep_client",
    "service_schema",
    "service_zeep_client",
    "wsdl_dir",
]

SERVICE_WSDL: Final = "emdr-service.wsdl"
CALLBACK_WSDL: Final = "emdr-callback.wsdl"
_ENV_VAR: Final = "MSE_GATEWAY_WSDL_DIR"


class WsdlNotFound(RuntimeError):
    """The wsdl/remd directory is not where the gateway looks for it."""


class _OfflineTransport(Transport):
    """zeep transport for local files only: any http(s) load is a bug in the WSDL, not a fetch."""

    def load(self, url: str) -> bytes:
        if "://" in url and not url.startswith("file://"):
            raise WsdlNotFound(f"the REMD WSDL must not load remote resources: {url}")
        data: bytes = super().load(url)  # type: ignore[no-untyped-call]
        return data


def wsdl_dir() -> Path:
    """The directory holding the REMD WSDL/XSD files."""
    candidates: list[Path] = []
    if os.environ.get(_ENV_VAR):
        candidates.append(Path(os.environ[_ENV_VAR]) / "remd")
    candidates.extend(base / "wsdl" / "remd" for base in search_bases())
    for path in candidates:
        if (path / SERVICE_WSDL).is_file():
            return path
    raise WsdlNotFound("wsdl/remd not found; looked in " + ", ".join(str(p) for p in candidates))


def _zeep_client(name: str) -> Any:
    settings = zeep.Settings(
        strict=False,  # a real peer may add elements the reconstruction does not know
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    transport = _OfflineTransport()  # type: ignore[no-untyped-call]
    return zeep.Client(str(wsdl_dir() / name), transport=transport, settings=settings)  # type: ignore[no-untyped-call]


@cache
def service_zeep_client() -> Any:
    """zeep client over emdr-service.wsdl (registerDocument, searchRegistryItem). Built once."""
    return _zeep_client(SERVICE_WSDL)


@cache
def callback_zeep_client() -> Any:
    """zeep client over emdr-callback.wsdl (registerDocumentResult, getDocumentFile)."""
    return _zeep_client(CALLBACK_WSDL)


def _schema(name: str) -> etree.XMLSchema:
    path = wsdl_dir() / name
    return etree.XMLSchema(etree.parse(str(path), parser=make_parser()))


@cache
def service_schema() -> etree.XMLSchema:
    """lxml schema of the service namespace (strict validation in the sandbox twin and tests)."""
    return _schema("emdr-service.xsd")


@cache
def callback_schema() -> etree.XMLSchema:
    return _schema("emdr-callback.xsd")
