"""The reconstructed messages of the inbound direction (issue 16) are valid against the XSD and
read back to what was built: searchRegistryItem with searchBy, getDocumentFileResponse with the
registered signatures, and documentRegisteredNotification."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from adapters.remd import codec
from adapters.remd.messages import (
    CodedValue,
    DocumentFile,
    DocumentRegisteredNotification,
    GetDocumentFileResponse,
    PersonalSignature,
    SearchRegistryItemRequest,
    SignatureData,
    Signer,
)
from adapters.remd.wsdl import callback_schema, service_schema

WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_search_by_recipient_round_trip() -> None:
    req = SearchRegistryItemRequest("1.2.643.5.1.13.13.12.2.77.7973", "35", WHEN, WHEN, search_by="recipient")
    el = codec.build_search_request(req)
    service_schema().assertValid(etree.ElementTree(el))
    assert codec.parse_search_request(el) == req
    bad = codec.build_search_request(SearchRegistryItemRequest("1.2.3", "35", WHEN, WHEN, search_by="anyone"))
    assert not service_schema().validate(etree.ElementTree(bad))


def test_document_file_with_signatures_round_trip() -> None:
    answer = GetDocumentFileResponse(
        True,
        document=DocumentFile.of(b"<ClinicalDocument/>"),
        org_signature=SignatureData.of(b"org-cms"),
        personal_signatures=(
            PersonalSignature(
                Signer(local_id="head-1", snils="11223344595", position=CodedValue("7")), SignatureData.of(b"p")
            ),
        ),
    )
    el = codec.build_get_document_file_response(answer)
    service_schema().assertValid(etree.ElementTree(el))
    assert codec.parse_get_document_file_response(el) == answer


def test_document_registered_notification_round_trip() -> None:
    notice = DocumentRegisteredNotification("EMDR-1", "uid-1", "108", "1.2.643.5.1.13.13.12.2.77.1", "1.2.3", WHEN)
    el = codec.build_document_registered_notification(notice)
    callback_schema().assertValid(etree.ElementTree(el))
    assert codec.parse_document_registered_notification(el) == notice
    callback_schema().assertValid(etree.ElementTree(codec.build_notification_ack()))
