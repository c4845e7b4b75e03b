"""The SMEV 3 transform: published/reference vectors, properties, and a differential test against
the reference Java implementation (run when a JDK is available)."""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import _smev_reference as slow_reference
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.bench.verify_xml import smev_envelope
from gateway.signatures.xml import ALGORITHM_URN, Flavour, SmevTransformError, smev_transform
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "smev_transform"


# ---------------------------------------------------------------------------------------- vectors


def _load_cases() -> list[dict[str, str]]:
    with open(VECTORS / "cases.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _select(data: bytes, select_id: str) -> etree._Element:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    if not select_id:
        return root
    found = root.xpath("//*[@Id=$id]", id=select_id)
    assert isinstance(found, list) and len(found) == 1
    element = found[0]
    assert isinstance(element, etree._Element)
    return element


CASES = _load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector_jdk(case: dict[str, str]) -> None:
    data = (VECTORS / "cases" / f"{case['name']}.in.xml").read_bytes()
    expected = (VECTORS / "cases" / f"{case['name']}.out.xml").read_bytes()
    assert smev_transform(_select(data, case["select_id"]), flavour="jdk") == expected
    if not case["select_id"]:
        assert smev_transform(data) == expected  # "jdk" is the default


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector_woodstox(case: dict[str, str]) -> None:
    data = (VECTORS / "cases" / f"{case['name']}.in.xml").read_bytes()
    element = _select(data, case["select_id"])
    expected = VECTORS / "cases" / f"{case['name']}.woodstox.out.xml"
    if expected.is_file():
        assert smev_transform(element, flavour="woodstox") == expected.read_bytes()
    else:
        assert (VECTORS / "cases" / f"{case['name']}.woodstox.err").is_file()
        with pytest.raises(SmevTransformError):
            smev_transform(element, flavour="woodstox")


@pytest.mark.parametrize(
    ("name", "jdk", "woodstox"),
    [
        # the flavours disagree exactly where the module docstring says they do
        ("probe-text-chunks", b"<ns1:b>a &amp;&amp; b</ns1:b>", b"<ns1:b>a &amp; &amp; b</ns1:b>"),
        ("probe-text-chunks", b"<ns1:c>&lt;&gt;</ns1:c>", b"<ns1:c>&lt; ></ns1:c>"),
        ("probe-text-chunks", b"<ns1:d>xy</ns1:d>", b"<ns1:d>x&#xd;y</ns1:d>"),
        ("probe-attribute-escaping", b"'\t\n\rx\"", b"'&#x9;&#xa;&#xd;x\""),
    ],
)
def test_flavours_differ_as_documented(name: str, jdk: bytes, woodstox: bytes) -> None:
    assert jdk in (VECTORS / "cases" / f"{name}.out.xml").read_bytes()
    assert woodstox in (VECTORS / "cases" / f"{name}.woodstox.out.xml").read_bytes()


def test_woodstox_is_not_idempotent_across_pis() -> None:
    once = smev_transform(b"<a xmlns='urn:a'>1<?pi?>&gt;</a>", flavour="woodstox")
    assert once == b'<ns1:a xmlns:ns1="urn:a">1&gt;</ns1:a>'
    assert smev_transform(once, flavour="woodstox") == b'<ns1:a xmlns:ns1="urn:a">1></ns1:a>'


def test_jdk_is_not_idempotent_across_pis() -> None:
    """The Java reference on the JDK's StAX gives the same two outputs (checked by hand with
    reference/SmevTransformRef.java, the root padded past the early buffer boundary)."""
    once = smev_transform(b"<a xmlns='urn:a'>1<?pi?>\n1\n</a>", flavour="jdk")
    assert once == b'<ns1:a xmlns:ns1="urn:a">1\n1\n</ns1:a>'
    assert smev_transform(once, flavour="jdk") == b'<ns1:a xmlns:ns1="urn:a">1\n1</ns1:a>'


def test_unknown_flavour() -> None:
    with pytest.raises(ValueError, match="flavour"):
        smev_transform(b"<a xmlns='urn:a'/>", flavour="xerces")  # type: ignore[arg-type]


def test_vector_set_is_what_the_readme_describes() -> None:
    assert len(CASES) >= 15
    assert {c["expected_from"] for c in CASES} == {"published", "java-reference"}
    for case in CASES:
        assert (VECTORS / "cases" / f"{case['name']}.in.xml").is_file()
        assert (VECTORS / "cases" / f"{case['name']}.out.xml").is_file()
        woodstox = [(VECTORS / "cases" / f"{case['name']}.woodstox.{ext}").is_file() for ext in ("out.xml", "err")]
        assert woodstox.count(True) == 1


def test_danbka_published_output_differs_where_the_readme_says() -> None:
    """Danbka/smev-transform's own expected output reuses ``ns2`` for siblings after a self-closing
    element (a scope that has already ended); the reference gives them fresh prefixes."""
    ours = smev_transform((VECTORS / "cases" / "danbka-transform.in.xml").read_bytes())
    published = (VECTORS / "cases" / "danbka-transform.published-expected.xml").read_bytes()
    assert ours != published
    assert b"<ns2:elementFour>" in published
    assert b'<ns6:elementFour xmlns:ns6="http://test/2">' in ours
    common = len(b"".join(re.findall(rb".*</ns2:elementTwo>", ours)))
    assert ours[:common] == published[:common]


def test_algorithm_urn() -> None:
    assert ALGORITHM_URN == "urn://smev-gov-ru/xmldsig/transform"


# ------------------------------------------------------------------------------------ edge cases


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (b"<a:x xmlns:a='urn:a'/>", b'<ns1:x xmlns:ns1="urn:a"></ns1:x>'),
        (b"<?xml version='1.0'?><!--c--><a:x xmlns:a='urn:a'><?pi?></a:x>", b'<ns1:x xmlns:ns1="urn:a"></ns1:x>'),
        (b"<x xmlns='urn:a' xmlns:b='urn:b'><y/></x>", b'<ns1:x xmlns:ns1="urn:a"><ns1:y></ns1:y></ns1:x>'),
        # text is escaped as the JDK writer does: & < > only; quotes stay literal
        (b"<x xmlns='urn:a'>&amp;&lt;&gt;&quot;&apos;</x>", b'<ns1:x xmlns:ns1="urn:a">&amp;&lt;&gt;"\'</ns1:x>'),
        # non-breaking space is not whitespace for Java's trim()
        ("<x xmlns='urn:a'>\u00a0</x>".encode(), '<ns1:x xmlns:ns1="urn:a">\u00a0</ns1:x>'.encode()),
        # CDATA is text after exc-c14n: escaped, and dropped when whitespace only
        (b"<x xmlns='urn:a'><![CDATA[<b>]]></x>", b'<ns1:x xmlns:ns1="urn:a">&lt;b&gt;</ns1:x>'),
        (b"<x xmlns='urn:a'><![CDATA[  ]]></x>", b'<ns1:x xmlns:ns1="urn:a"></ns1:x>'),
        # windows-1251 input is decoded by its declaration; output is always UTF-8
        (
            '<?xml version="1.0" encoding="windows-1251"?><x xmlns="urn:a">Привет</x>'.encode("cp1251"),
            '<ns1:x xmlns:ns1="urn:a">Привет</ns1:x>'.encode(),
        ),
    ],
)
def test_edge_cases(source: bytes, expected: bytes) -> None:
    assert smev_transform(source) == expected


def test_subtree_ignores_ancestors_and_tail() -> None:
    root = etree.fromstring(b"<p:r xmlns:p='urn:p' xmlns:q='urn:q'><q:a p:x='1'>t</q:a> tail</p:r>")
    child = root[0]
    assert smev_transform(child) == b'<ns1:a xmlns:ns1="urn:q" xmlns:ns2="urn:p" ns2:x="1">t</ns1:a>'
    assert smev_transform(root.getroottree()) == smev_transform(root)


def test_refuses_dtds_and_garbage() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x xmlns="urn:a">&a;</x>'
    with pytest.raises(XmlSecurityError):
        smev_transform(bomb)
    with pytest.raises(XmlSyntaxError):
        smev_transform(b"<x xmlns='urn:a'>")
    with pytest.raises(XmlSecurityError):
        smev_transform(b"<x xmlns='urn:a'>" + b"a" * 100 + b"</x>", max_bytes=50)
    with pytest.raises(TypeError):
        smev_transform("<x/>")  # type: ignore[arg-type]


def test_refuses_entity_nodes() -> None:
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    root = etree.fromstring(b'<!DOCTYPE x [<!ENTITY a "b">]><x xmlns="urn:a">&a;</x>', parser)
    with pytest.raises(SmevTransformError):
        smev_transform(root)
    with pytest.raises(SmevTransformError):
        smev_transform(etree.Comment("c"))


# ---------------------------------------------------------------------------- generated documents

URIS = ["urn:a", "urn:b", "http://test/1", "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.2"]
PREFIXES = ["p", "q", "ns1", "ns2", "s", "tns"]
LOCALS = ["a", "b", "Id", "id", "B", "элемент", "x-y", "z.1"]
TEXT_ALPHABET = st.sampled_from([" ", "\t", "\n", "\r", "&", "<", ">", '"', "'", "a", "Я", "\u00a0", "]", "1"])


@dataclass
class Node:
    uri: str  # "" = no namespace
    local: str
    attributes: dict[tuple[str, str], str]
    content: list[Node | tuple[str, str]] = field(default_factory=list)  # ("text"|"comment"|"pi", s)


def _text_strategy(max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(TEXT_ALPHABET, max_size=max_size)


def _node_strategy(
    *, unqualified: bool, xml_attrs: bool, raw_attr_ws: bool, pis: bool = True
) -> st.SearchStrategy[Node]:
    uris = [*URIS, ""] if unqualified else URIS
    attr_value_alphabet = ["a", "&", "<", ">", '"', "'", " ", "Ж"] + (["\t", "\n", "\r"] if raw_attr_ws else [])
    attr_names = st.tuples(st.sampled_from([*URIS, ""]), st.sampled_from(LOCALS))
    if xml_attrs:  # xml:lang only: libxml2 checks the values of xml:id and xml:space
        attr_names = attr_names | st.just(("http://www.w3.org/XML/1998/namespace", "lang"))
    attributes = st.dictionaries(
        attr_names,
        st.text(st.sampled_from(attr_value_alphabet), max_size=6),
        max_size=4,
    )
    leaf = st.builds(Node, st.sampled_from(uris), st.sampled_from(LOCALS), attributes)
    misc = st.one_of(
        st.tuples(st.just("text"), _text_strategy()),
        st.tuples(st.just("comment"), st.sampled_from(["", "c", " note "])),
        *([st.tuples(st.just("pi"), st.sampled_from(["", "data"]))] if pis else []),
    )

    def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        return st.builds(
            Node,
            st.sampled_from(uris),
            st.sampled_from(LOCALS),
            attributes,
            st.lists(st.one_of(children, misc), max_size=5),
        )

    return st.recursive(leaf, extend, max_leaves=12)


def _escape_text(text: str, rnd: st.DataObject | None, before: str = "") -> str:
    out: list[str] = [before[-2:]]
    for ch in text:
        if ch == ">" and "".join(out).endswith("]]"):
            out.append("&gt;")  # "]]>" may not appear literally in content
        elif ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == "\r":
            out.append("&#13;")  # a literal CR would be normalised away by the parser
        elif ch == ">" and rnd is not None and rnd.draw(st.booleans()):
            out.append("&gt;")
        elif ch in "\"'ЯA1" and rnd is not None and rnd.draw(st.booleans()):
            out.append(f"&#{ord(ch)};")  # a character reference for an ordinary character
        else:
            out.append(ch)
    return "".join(out[1:])


def _escape_attr(value: str) -> str:
    table = {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
    return "".join(table.get(ch, ch) for ch in value)


def serialize(node: Node, rnd: st.DataObject | None = None, prefix_seed: int = 0) -> bytes:
    """Write ``node`` as XML, choosing prefixes and declaration placement from ``prefix_seed`` (and
    ``rnd`` for lexical variation), so that the same tree can be written in many ways."""
    counter = iter(range(10**6))

    def write(n: Node, default_uri: str) -> str:
        decls: dict[str, str] = {}
        k = next(counter) + prefix_seed
        if n.uri == "":
            tag = n.local
            if default_uri != "":
                decls["xmlns"] = ""
            inner_default = ""
        elif k % 3 == 0:
            tag = n.local
            if default_uri != n.uri:
                decls["xmlns"] = n.uri
            inner_default = n.uri
        else:
            prefix = PREFIXES[k % len(PREFIXES)]
            tag = f"{prefix}:{n.local}"
            decls[f"xmlns:{prefix}"] = n.uri
            inner_default = default_uri
        attrs = []
        for i, ((uri, local), value) in enumerate(n.attributes.items()):
            if uri == "":
                name = local
            elif uri == "http://www.w3.org/XML/1998/namespace":
                name = f"xml:{local}"
            else:
                existing = [d[6:] for d, u in decls.items() if d.startswith("xmlns:") and u == uri]
                prefix = existing[0] if existing else f"at{i}"
                decls[f"xmlns:{prefix}"] = uri
                name = f"{prefix}:{local}"
            attrs.append(f'{name}="{_escape_attr(value)}"')
        if k % 5 == 1:
            decls["xmlns:unused"] = "urn:unused"
        head = " ".join([tag, *(f'{d}="{u}"' for d, u in decls.items()), *attrs])
        body = []
        for item in n.content:
            if isinstance(item, Node):
                body.append(write(item, inner_default))
            elif item[0] == "text":
                body.append(_escape_text(item[1], rnd, "".join(body)))
            elif item[0] == "comment":
                body.append(f"<!--{item[1]}-->")
            else:
                body.append(f"<?pi {item[1]}?>")
        if not body and k % 2 == 0:
            return f"<{head}/>"
        return f"<{head}>{''.join(body)}</{tag}>"

    return write(node, "").encode("utf-8")


clean_nodes = _node_strategy(unqualified=False, xml_attrs=False, raw_attr_ws=False)
# A PI splits a text run in the first pass and is gone in the second, so neither flavour is
# idempotent for documents with PIs: a ">" that began a run (escaped by Woodstox) is mid-run the
# second time (written raw), and the JDK reader's events (which end at line breaks) fall differently
# in the joined run, so a whitespace-only last line can survive the first pass and not the second.
clean_nodes_no_pi = _node_strategy(unqualified=False, xml_attrs=False, raw_attr_ws=False, pis=False)
any_nodes = _node_strategy(unqualified=True, xml_attrs=True, raw_attr_ws=True)


def _flatten(element: etree._Element) -> list[tuple[str, dict[str, str], str]]:
    """(tag, attributes, non-whitespace direct text) for every element in document order."""
    out = []
    for el in element.iter(etree.Element):
        direct = (el.text or "") + "".join((child.tail or "") for child in el if not isinstance(child, etree._Entity))
        out.append((str(el.tag), {str(k): str(v) for k, v in el.attrib.items()}, re.sub(r"\s", "", direct)))
    return out


FLAVOURS = st.sampled_from(["jdk", "woodstox"])


def _has_cr_in_text(node: Node) -> bool:
    return any(
        _has_cr_in_text(item) if isinstance(item, Node) else item[0] == "text" and "\r" in item[1]
        for item in node.content
    )


@given(clean_nodes_no_pi, FLAVOURS, st.data())
@example(Node("urn:a", "a", {}, [("text", "]\r1\n")]), "jdk", None)  # found by Hypothesis in another worktree
def test_idempotent_and_well_formed(node: Node, flavour: Flavour, data: st.DataObject | None) -> None:
    """For namespaced elements without xml:* attributes and without tab/LF/CR in attribute values
    (what the JDK flavour writes in a way that does not survive re-parsing, and what the Woodstox
    flavour refuses), the output is well-formed namespace XML and transforming it again changes
    nothing (for documents without PIs, see clean_nodes_no_pi; outputs of documents with PIs are
    parsed back by test_names_attributes_and_text_are_preserved).

    One exception, which the Java reference on the JDK's StAX shares (test_jdk_is_not_idempotent_
    for_cr_in_text): in the JDK flavour a CR in text is a reference event of its own that the first
    pass drops, so the second pass reads the text around it as one run and splits it elsewhere;
    whitespace that was inside a kept event the first time can then be an event of its own and be
    dropped. The first output has no CR left, so from the second pass on the output is fixed."""
    once = smev_transform(serialize(node, data), flavour=flavour)
    reparsed = etree.fromstring(once)  # raises if not well-formed
    assert reparsed is not None
    twice = smev_transform(once, flavour=flavour)
    if flavour == "jdk" and _has_cr_in_text(node):
        assert b"\r" not in once
        assert smev_transform(twice, flavour=flavour) == twice
    else:
        assert twice == once


# Texts (as written in the source document) for which the JDK flavour is not idempotent, with the
# first and second outputs. The Java reference on OpenJDK 17's StAX gives exactly these bytes
# (test_jdk_cr_cases_match_the_java_reference re-checks it when a JDK is installed); Woodstox keeps
# the CR (as &#xd;) and is idempotent for them. Found by comparing both passes with the Java
# reference for every text of up to 6 tokens from [" ", "\n", "]", "1", "&#13;", "&amp;"] (and up
# to 4 from a larger set): every input for which the reference is not idempotent has a CR in text.
JDK_CR_NOT_IDEMPOTENT = [
    ("]&#13;1\n", b"]1\n", b"]1"),  # the example Hypothesis found
    ("]&#13;a\n", b"]a\n", b"]a"),
    ("\n]&#13;1\n", b"\n]1\n", b"\n]1"),
    ("] &#13;] ", b"] ] ", b"] ]"),
]


def _in_element(text: str) -> bytes:
    return f'<ns1:a xmlns:ns1="urn:a">{text}</ns1:a>'.encode()


@pytest.mark.parametrize(("text", "first", "second"), JDK_CR_NOT_IDEMPOTENT)
def test_jdk_is_not_idempotent_for_cr_in_text(text: str, first: bytes, second: bytes) -> None:
    """``]&#13;1\n``: the JDK reader reports "]" (a run that ended at a reference), the CR (a
    reference: whitespace, dropped) and "1\n" (a run, then the newline that starts the next run):
    "]1\n". Read again, "]" no longer ends the event: "]" and the run "1" make one event that ends
    at the newline, and "\n" alone is whitespace-only, dropped: "]1"."""
    source = f"<p:a xmlns:p='urn:a'>{text}</p:a>".encode()
    once = smev_transform(source, flavour="jdk")
    assert once == _in_element(first.decode())
    assert smev_transform(once, flavour="jdk") == _in_element(second.decode())
    assert smev_transform(_in_element(second.decode()), flavour="jdk") == _in_element(second.decode())
    woodstox = smev_transform(source, flavour="woodstox")
    assert smev_transform(woodstox, flavour="woodstox") == woodstox


@given(_node_strategy(unqualified=False, xml_attrs=False, raw_attr_ws=True, pis=False), st.data())
def test_woodstox_keeps_attribute_whitespace_through_a_round_trip(node: Node, data: st.DataObject) -> None:
    once = smev_transform(serialize(node, data), flavour="woodstox")
    assert smev_transform(once, flavour="woodstox") == once


@given(clean_nodes, st.data(), FLAVOURS)
def test_names_attributes_and_text_are_preserved(node: Node, data: st.DataObject, flavour: Flavour) -> None:
    source = serialize(node, data)
    before = _flatten(etree.fromstring(source))
    after = _flatten(etree.fromstring(smev_transform(source, flavour=flavour)))
    assert [(t, a) for t, a, _ in before] == [(t, a) for t, a, _ in after]
    # Non-whitespace characters of each element's own text survive, in order.
    assert [txt for _, _, txt in before] == [txt for _, _, txt in after]


@given(any_nodes, st.integers(0, 30), st.integers(0, 30))
def test_output_does_not_depend_on_original_prefixes(node: Node, seed_a: int, seed_b: int) -> None:
    assert smev_transform(serialize(node, prefix_seed=seed_a)) == smev_transform(serialize(node, prefix_seed=seed_b))


@given(clean_nodes, st.integers(0, 30), st.integers(0, 30))
def test_woodstox_output_does_not_depend_on_original_prefixes(node: Node, seed_a: int, seed_b: int) -> None:
    a = smev_transform(serialize(node, prefix_seed=seed_a), flavour="woodstox")
    assert a == smev_transform(serialize(node, prefix_seed=seed_b), flavour="woodstox")


@given(any_nodes, st.data())
def test_woodstox_refuses_exactly_what_it_cannot_bind(node: Node, data: st.DataObject) -> None:
    source = serialize(node, data)
    names = [(el.tag, list(el.attrib)) for el in etree.fromstring(source).iter(etree.Element)]
    unbindable = any(
        not str(tag).startswith("{") or any(str(a).startswith("{http://www.w3.org/XML/1998/namespace}") for a in attrs)
        for tag, attrs in names
    )
    if unbindable:
        with pytest.raises(SmevTransformError):
            smev_transform(source, flavour="woodstox")
    else:
        smev_transform(source, flavour="woodstox")


@given(any_nodes, st.data())
def test_output_shape(node: Node, data: st.DataObject) -> None:
    out = smev_transform(serialize(node, data)).decode("utf-8")
    assert "/>" not in out and "<!--" not in out and "<?" not in out
    declared = [int(n) for n in re.findall(r' xmlns:ns(\d+)="', out)]
    assert declared == list(range(1, len(declared) + 1))  # one counter, in document order
    for names in re.findall(r'<[^/\s>]+((?: [^\s=]+="[^"]*")*)>', out):
        kinds = [name.startswith("xmlns:") for name in re.findall(r' ([^\s=]+)="', names)]
        assert kinds == sorted(kinds, reverse=True)  # declarations first, then attributes


# ------------------------------------------------------------------------ differential vs. Java

JAVA_SOURCE = VECTORS / "reference" / "SmevTransformRef.java"
WOODSTOX_JARS = [Path("/usr/share/java/woodstox-core.jar"), Path("/usr/share/java/stax2-api.jar")]


class JavaReference:
    """One long-running JVM with the reference transform, fed one document at a time."""

    def __init__(self, classpath: str) -> None:
        self.proc = subprocess.Popen(
            ["java", "-cp", classpath, "SmevTransformRef"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def __call__(self, document: bytes) -> tuple[int, bytes]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(struct.pack(">i", len(document)) + document)
        self.proc.stdin.flush()
        status, length = struct.unpack(">ii", self.proc.stdout.read(8))
        return status, self.proc.stdout.read(length)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def java_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("no JDK on PATH: the differential test against the Java reference needs javac/java")
    classes = tmp_path_factory.mktemp("smev-java")
    subprocess.run(["javac", "-d", str(classes), str(JAVA_SOURCE)], check=True, capture_output=True)
    return classes


@pytest.fixture(scope="module")
def java_jdk(java_classes: Path) -> Iterator[JavaReference]:
    ref = JavaReference(str(java_classes))
    yield ref
    ref.close()


@pytest.fixture(scope="module")
def java_woodstox(java_classes: Path) -> Iterator[JavaReference]:
    if not all(jar.is_file() for jar in WOODSTOX_JARS):
        reason = "Woodstox jars not installed (Debian package libwoodstox-java)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{reason}: .ci/run installs it, so CI must run this comparison")
        pytest.skip(reason)
    ref = JavaReference(":".join([str(java_classes), *map(str, WOODSTOX_JARS)]))
    yield ref
    ref.close()


def _exc_c14n(document: bytes) -> bytes:
    return etree.tostring(
        etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True)),
        method="c14n",
        exclusive=True,
        with_comments=False,
    )


# Both Java readers split text at input-buffer boundaries, one of them early in the stream (the
# JDK's about 30 bytes in, Woodstox's about 60), which the module documents as not modelled. A
# long attribute on the root moves all generated text past the early boundary; the documents stay
# far below the next one.
_PAD = {("", "pad"): "p" * 80}


# SMEV_JAVA_EXAMPLES raises the count for a longer soak (e.g. 5000) without editing the test.
JAVA_SETTINGS = settings(max_examples=int(os.environ.get("SMEV_JAVA_EXAMPLES", "300")), deadline=None)


@JAVA_SETTINGS
@given(any_nodes, st.data())
def test_matches_the_java_reference_jdk(java_jdk: JavaReference, node: Node, data: st.DataObject) -> None:
    """ours(document) == SmevTransformSpi(exc-c14n(document)) on the JDK's StAX, byte for byte:
    the exact input an XMLDSig reference with [exc-c14n, smev transform] digests."""
    node.attributes.update(_PAD)
    document = serialize(node, data)
    status, expected = java_jdk(_exc_c14n(document))
    assert status == 0, expected.decode()
    assert smev_transform(document, flavour="jdk") == expected


@JAVA_SETTINGS
@given(any_nodes, st.data())
def test_matches_the_java_reference_woodstox(java_woodstox: JavaReference, node: Node, data: st.DataObject) -> None:
    node.attributes.update(_PAD)
    document = serialize(node, data)
    status, expected = java_woodstox(_exc_c14n(document))
    if status != 0:
        with pytest.raises(SmevTransformError):
            smev_transform(document, flavour="woodstox")
        return
    ours = smev_transform(document, flavour="woodstox")
    if b"&gt;" not in expected and b">" not in re.sub(rb"<[^>]*>", b"", expected):
        assert ours == expected
    else:
        # Woodstox also escapes ">" at boundaries of its internal text segments (seen after runs
        # of entity references), which is not modelled: equal up to how ">" in text is written.
        assert _gt_insensitive(ours) == _gt_insensitive(expected)


def _gt_insensitive(output: bytes) -> bytes:
    return output.replace(b"&gt;", b">")


@pytest.mark.parametrize(("text", "first", "second"), JDK_CR_NOT_IDEMPOTENT)
def test_jdk_cr_cases_match_the_java_reference(
    java_jdk: JavaReference, java_woodstox: JavaReference, text: str, first: bytes, second: bytes
) -> None:
    """Both passes of the JDK flavour over the inputs it is not idempotent for are the Java
    reference's own (it is not idempotent for them either), and Woodstox is idempotent there."""
    pad = "p" * 80  # past the early input-buffer boundary, as _PAD
    source = f"<p:a xmlns:p='urn:a' pad='{pad}'>{text}</p:a>".encode()
    once = smev_transform(source, flavour="jdk")
    twice = smev_transform(once, flavour="jdk")
    assert once.endswith(b">" + first + b"</ns1:a>") and twice.endswith(b">" + second + b"</ns1:a>")
    assert java_jdk(_exc_c14n(source)) == (0, once)
    assert java_jdk(_exc_c14n(once)) == (0, twice)
    woodstox_once = smev_transform(source, flavour="woodstox")
    assert java_woodstox(_exc_c14n(source)) == (0, woodstox_once)
    assert java_woodstox(_exc_c14n(woodstox_once)) == (0, woodstox_once)


# ------------------------------------------------------------- unchanged output after optimising

# SHA-256 of the output of the implementation before the performance rewrite (commit 135feda), for
# documents generated below. Computed at that commit with both flavours, e.g.
#   hashlib.sha256(smev_transform(smev_envelope(), flavour="jdk")).hexdigest()
# (and the same for the SenderProvidedRequestData element, and for _mixed_document(seed, clean)).
# The slow reference in _smev_reference.py (a verbatim copy of that implementation) must give the
# same digests, which shows the copy is faithful; the optimised module must give them too.
_BEFORE_REWRITE = {
    ("envelope", "jdk"): "061186deadb28b8d75d8fdc1575a7d1b0021ab67a94e4f3699a3ffc2ea23461f",
    ("envelope", "woodstox"): "061186deadb28b8d75d8fdc1575a7d1b0021ab67a94e4f3699a3ffc2ea23461f",
    ("signed-element", "jdk"): "7eb76d2972dd652e248b3d9c4cad31a4cdcb778dc8e10bac5182626647f5f9fd",
    ("signed-element", "woodstox"): "7eb76d2972dd652e248b3d9c4cad31a4cdcb778dc8e10bac5182626647f5f9fd",
    ("mixed-1", "jdk"): "89b0ec8e20633ab6024dec00cd1f22ede5303cbcdd2de805e85ec495f9a9c2fe",
    ("mixed-1-clean", "jdk"): "40fe73f2e72b6413af3adf67f0ee8c340f3828ae38c30b4fe80ecc28405c4c51",
    ("mixed-1-clean", "woodstox"): "ca6c4c6a505d50b15b5baef74389bba5fe9948fc584ef890df8dbe6d8ae13c01",
}

_MIXED_URIS = ["urn:a", "urn:b", "http://test/1", "urn:x?a=1&amp;b=2", "urn:a:B"]
_MIXED_PREFIXES = ["p", "q", "ns1", "ns3", "s"]
_MIXED_LOCALS = ["Row", "Code", "Text", "a", "Id", "элемент", "x-y", "z.1", "\ufb01", "\U00010400"]
_MIXED_TEXT = [
    "Исследование",
    "value",
    " ",
    "\n    ",
    "\t",
    "&amp;",
    "&lt;",
    "&gt;",
    "]]&gt;",
    "]",
    "&#13;",
    "&#10;",
    "\u00a0",
    "<![CDATA[ <x> & ]]>",
    "<![CDATA[  ]]>",
    "<!-- note -->",
    "<?pi data?>",
    "a\nb\n  ",
]
_MIXED_VALUES = ["", "1", "Ж", "&amp;", "&lt;", ">", "&quot;", "'", " ", "&#9;", "&#10;", "&#13;", "\u00a0"]


def _mixed_document(seed: int, *, clean: bool, elements: int = 2500) -> bytes:
    """A deterministic document of about ``elements`` elements exercising every rule: prefixes
    and default namespaces redeclared at random depths, unused declarations, qualified and
    unqualified attributes (several per element, names that sort differently in UTF-16 and in
    code points), text with references, CR, LF, "]", CDATA, comments and PIs. ``clean``: no
    element in no namespace and no ``xml:*`` attribute (what the Woodstox flavour accepts)."""
    rnd = random.Random(seed)
    budget = [elements]

    def element(depth: int, default_uri: str) -> str:
        budget[0] -= 1
        decls: dict[str, str] = {}
        if not clean and rnd.random() < 0.05:
            tag, inner_default = rnd.choice(_MIXED_LOCALS), ""
            if default_uri:
                decls["xmlns"] = ""
        elif rnd.random() < 0.3:
            uri = rnd.choice(_MIXED_URIS)
            tag, inner_default = rnd.choice(_MIXED_LOCALS), uri
            if uri != default_uri or rnd.random() < 0.2:
                decls["xmlns"] = uri
        else:
            prefix = rnd.choice(_MIXED_PREFIXES)
            tag, inner_default = f"{prefix}:{rnd.choice(_MIXED_LOCALS)}", default_uri
            decls[f"xmlns:{prefix}"] = rnd.choice(_MIXED_URIS)
        if rnd.random() < 0.1:
            decls["xmlns:unused"] = rnd.choice(_MIXED_URIS)
        attrs: dict[str, str] = {}
        expanded: set[tuple[str, str]] = set()  # an attribute may occur once per element
        for i in range(rnd.choice([0, 0, 0, 1, 1, 2, 3, 4])):
            local = rnd.choice(_MIXED_LOCALS)
            kind = rnd.random()
            if kind < 0.4:
                uri, name = "", local
            elif kind < 0.45 and not clean:
                uri, name = "xml", "xml:lang"
            else:
                uri, name = rnd.choice(_MIXED_URIS), f"at{i}:{local}"
            if (uri, local if uri != "xml" else "lang") in expanded:
                continue
            expanded.add((uri, local if uri != "xml" else "lang"))
            if name.startswith("at"):
                decls[f"xmlns:at{i}"] = uri
            attrs[name] = "".join(rnd.choice(_MIXED_VALUES) for _ in range(rnd.randint(0, 4)))
        head = " ".join([tag, *(f'{k}="{v}"' for k, v in decls.items()), *(f'{k}="{v}"' for k, v in attrs.items())])
        body: list[str] = []
        for _ in range(rnd.randint(0, 6) if depth < 8 else 0):
            if budget[0] > 0 and rnd.random() < 0.6:
                body.append(element(depth + 1, inner_default))
            else:
                body.append("".join(rnd.choice(_MIXED_TEXT) for _ in range(rnd.randint(1, 4))))
        if not body and rnd.random() < 0.5:
            return f"<{head}/>"
        return f"<{head}>{''.join(body)}</{tag}>"

    parts = []
    while budget[0] > 0:
        parts.append(element(1, ""))
    return f"<r:root xmlns:r='urn:root'>{''.join(parts)}</r:root>".encode()


def _before_rewrite_source(name: str) -> etree._Element:
    if name in ("envelope", "signed-element"):
        root = parse_xml(smev_envelope())
        if name == "envelope":
            return root
        found = root.find(
            ".//{urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.1}SenderProvidedRequestData"
        )
        assert found is not None
        return found
    return parse_xml(_mixed_document(1, clean=name.endswith("-clean")))


@pytest.mark.parametrize(("name", "flavour"), list(_BEFORE_REWRITE), ids=[f"{n}-{f}" for n, f in _BEFORE_REWRITE])
def test_output_is_unchanged_since_the_rewrite(name: str, flavour: Flavour) -> None:
    """The bench envelope (about 1,080 elements) and generated documents (about 3,000 nodes each)
    give exactly the bytes the implementation before the performance rewrite gave."""
    element = _before_rewrite_source(name)
    expected = _BEFORE_REWRITE[(name, flavour)]
    assert hashlib.sha256(slow_reference.smev_transform(element, flavour=flavour)).hexdigest() == expected
    assert hashlib.sha256(smev_transform(element, flavour=flavour)).hexdigest() == expected


def test_mixed_document_without_namespace_is_refused_by_woodstox() -> None:
    element = _before_rewrite_source("mixed-1")
    with pytest.raises(slow_reference.SmevTransformError):
        slow_reference.smev_transform(element, flavour="woodstox")
    with pytest.raises(SmevTransformError):
        smev_transform(element, flavour="woodstox")


def _same_as_slow_reference(element: etree._Element, flavour: Flavour) -> None:
    try:
        expected: bytes | None = slow_reference.smev_transform(element, flavour=flavour)
    except slow_reference.SmevTransformError:
        expected = None
    if expected is None:
        with pytest.raises(SmevTransformError):
            smev_transform(element, flavour=flavour)
    else:
        assert smev_transform(element, flavour=flavour) == expected


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("clean", [True, False])
@pytest.mark.parametrize("flavour", ["jdk", "woodstox"])
def test_mixed_documents_match_the_slow_reference(seed: int, clean: bool, flavour: Flavour) -> None:
    root = parse_xml(_mixed_document(seed, clean=clean, elements=800))
    # the whole document, and subtrees whose ancestors declare namespaces the subtree uses
    for element in list(root.iter(etree.Element))[::97]:
        _same_as_slow_reference(element, flavour)


@settings(max_examples=300, deadline=None)
@given(any_nodes, st.data(), FLAVOURS)
def test_matches_the_slow_reference(node: Node, data: st.DataObject, flavour: Flavour) -> None:
    """On generated trees (every element as the transformed fragment, so ancestors' scopes differ),
    the optimised transform gives the old implementation's bytes, or refuses what it refused."""
    root = parse_xml(serialize(node, data))
    for element in root.iter(etree.Element):
        _same_as_slow_reference(element, flavour)
