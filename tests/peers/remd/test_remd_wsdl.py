"""The reconstructed WSDL/XSD load offline (zeep and lxml), and say they are a reconstruction."""

from __future__ import annotations

import socket

import pytest

from adapters.remd import wsdl


def test_wsdl_loads_without_any_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the WSDL tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    for cached in (wsdl.service_zeep_client, wsdl.callback_zeep_client, wsdl.service_schema, wsdl.callback_schema):
        cached.cache_clear()
    service = wsdl.service_zeep_client()
    operations = set(service.wsdl.bindings[next(iter(service.wsdl.bindings))]._operations)
    assert operations == {"registerDocument", "searchRegistryItem", "getDocumentFile"}
    callback = wsdl.callback_zeep_client()
    operations = set(callback.wsdl.bindings[next(iter(callback.wsdl.bindings))]._operations)
    assert operations == {"sendRegisterDocumentResult", "getDocumentFile"}
    assert wsdl.service_schema() is not None and wsdl.callback_schema() is not None


def test_every_file_is_marked_as_the_projects_reconstruction() -> None:
    files = sorted(wsdl.wsdl_dir().glob("*.*sd*")) + sorted(wsdl.wsdl_dir().glob("*.wsdl"))
    assert {f.name for f in files} >= {
        "emdr-service.wsdl",
        "emdr-callback.wsdl",
        "emdr-service.xsd",
        "emdr-callback.xsd",
    }
    for f in files:
        head = f.read_text("utf-8")[:1500]
        assert "mse-gateway" in head and ("RECONSTRUCTION" in head or "LOCAL SUBSET" in head), f.name
        assert 'schemaLocation="http' not in f.read_text("utf-8"), f.name


def test_a_remote_import_is_refused() -> None:
    transport = wsdl._OfflineTransport()  # type: ignore[no-untyped-call]
    with pytest.raises(wsdl.WsdlNotFound):
        transport.load("http://www.w3.org/2005/08/addressing/ws-addr.xsd")
