"""Pure pieces of the schematron runner: SVRL reading, rule labels, locations, namespace strip."""

from __future__ import annotations

from lxml import etree

from gateway.documents.schematron import parse_svrl, strip_hl7_namespace

SVRL = """<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <svrl:active-pattern/>
  <svrl:failed-assert test="count(realmCode)=1" location="/Q{}ClinicalDocument[1]">
    <svrl:text>У1-9. Элемент ClinicalDocument должен
       иметь 1 элемент realmCode.</svrl:text>
  </svrl:failed-assert>
  <svrl:successful-report test="@nullFlavor" role="warning"
      location="/Q{}ClinicalDocument[1]/Q{urn:hl7-ru:identity}Props[1]">
    <svrl:text>Общие ограничения. СНИЛС не должен состоять целиком из нулей.</svrl:text>
  </svrl:successful-report>
  <svrl:failed-assert id="R-42" test="false()" location="/Q{urn:example}x[1]">
    <svrl:text>no label here at all and a rather long first sentence that is not a label</svrl:text>
  </svrl:failed-assert>
</svrl:schematron-output>"""


def test_parse_svrl() -> None:
    first, second, third = parse_svrl(SVRL.encode())
    assert first.rule_id == "У1-9" and first.kind == "assert" and first.severity == "error"
    assert first.message == "У1-9. Элемент ClinicalDocument должен иметь 1 элемент realmCode."
    assert first.location == "/ClinicalDocument[1]"
    assert second.rule_id == "Общие ограничения" and second.kind == "report" and second.severity == "warning"
    assert second.location == "/ClinicalDocument[1]/identity:Props[1]"
    assert third.rule_id == "R-42" and third.location == "/{urn:example}x[1]"


def test_strip_namespace_keeps_extensions_and_does_not_touch_input() -> None:
    root = etree.fromstring(
        b'<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:identity="urn:hl7-ru:identity">'
        b"<id/><identity:Props/></ClinicalDocument>"
    )
    stripped = strip_hl7_namespace(root)
    assert [child.tag for child in stripped] == ["id", "{urn:hl7-ru:identity}Props"]
    assert stripped.tag == "ClinicalDocument"
    assert root.tag == "{urn:hl7-org:v3}ClinicalDocument"
