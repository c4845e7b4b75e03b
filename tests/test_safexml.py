"""The shared XML parser refuses XXE, entity bombs, DTDs and oversize input before parsing content."""

from __future__ import annotations

import codecs
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, _hostile_parser, parse_xml

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">'.encode() for i in range(1, 10))
    + b"]><lolz>&lol9;</lolz>"
)


def test_external_entity_file_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>'.encode()
    with pytest.raises(XmlSecurityError) as info:
        parse_xml(doc)
    assert "TOP-SECRET" not in str(info.value)


def test_billion_laughs_refused_quickly() -> None:
    start = time.monotonic()
    with pytest.raises(XmlSecurityError):
        parse_xml(BILLION_LAUGHS)
    assert time.monotonic() - start < 5  # generous: it must not expand anything


def test_external_dtd_and_parameter_entities() -> None:
    with pytest.raises(XmlSecurityError):
        parse_xml(b'<!DOCTYPE a SYSTEM "http://127.0.0.1:9/evil.dtd"><a/>')
    with pytest.raises(XmlSecurityError):
        parse_xml(b'<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]><a/>')


def test_undeclared_entity_is_a_security_error() -> None:
    with pytest.raises(XmlSecurityError):
        parse_xml(b"<a>&xxe;</a>")


def test_size_limit_checked_before_parsing() -> None:
    with pytest.raises(XmlSecurityError, match="exceeds"):
        parse_xml(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)


def test_malformed_and_plain() -> None:
    with pytest.raises(XmlSyntaxError):
        parse_xml(b"<a><b></a>")
    root = parse_xml('<a xmlns="urn:x">текст &amp; <b/></a>'.encode())
    assert root.text == "текст & "


def test_str_input_refused() -> None:
    with pytest.raises(TypeError):
        parse_xml("<a/>")  # type: ignore[arg-type]


# -- no file or network access while parsing (issue 14, finding 3) ---------------------------------


def _hostile_docs(target: Path) -> dict[str, bytes]:
    """Documents that make an unprotected libxml2 open ``target``: an external DTD subset, a
    parameter entity, and the same hidden behind comments, a PI and other encodings."""
    return {
        "external-subset": f'<?xml version="1.0"?><!DOCTYPE a SYSTEM "{target}"><a/>'.encode(),
        "external-subset-uri": f'<!DOCTYPE a SYSTEM "file://{target}"><a/>'.encode(),
        "parameter-entity": f'<!DOCTYPE a [<!ENTITY % p SYSTEM "file://{target}">%p;]><a/>'.encode(),
        "after-comments-and-pi": f'<!-- x --><?pi y?>\n<!--z--> <!DOCTYPE a SYSTEM "{target}"><a/>'.encode(),
        "utf-16-bom": f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a SYSTEM "{target}"><a/>'.encode("utf-16"),
        "utf-16le-no-bom": f'<!DOCTYPE a SYSTEM "{target}"><a/>'.encode("utf-16-le"),
        "utf-16be-no-bom": f'<!DOCTYPE a SYSTEM "{target}"><a/>'.encode("utf-16-be"),
        "utf-8-bom": codecs.BOM_UTF8 + f'<!DOCTYPE a SYSTEM "{target}"><a/>'.encode(),
        "lower-case": f'<!doctype a SYSTEM "{target}"><a/>'.encode(),
    }


@pytest.fixture
def targets(tmp_path: Path) -> dict[str, Path]:
    secret = tmp_path / "secret.key"
    secret.write_text("TOP-SECRET")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes: the parse would hang
    return {"file": secret, "fifo": fifo}


def test_doctype_refused_before_libxml2_with_a_code(targets: dict[str, Path]) -> None:
    opened: list[str] = []
    watched = {str(p) for p in targets.values()}

    def hook(event: str, args: tuple[object, ...]) -> None:
        if event == "open" and args and str(args[0]).removeprefix("file://") in watched:
            opened.append(str(args[0]))

    sys.addaudithook(hook)  # cannot be removed; it only records opens of this test's own paths
    for target in targets.values():
        for name, doc in _hostile_docs(target).items():
            with pytest.raises(XmlSecurityError) as info:
                parse_xml(doc)
            assert info.value.code == "XML_FORBIDDEN_CONSTRUCT", name
            assert info.value.reason == "doctype", name
    assert opened == []


def test_resolver_refuses_loads_even_past_the_scan(targets: dict[str, Path]) -> None:
    """The second line: the hostile-input parser itself never lets libxml2 open a file, even when
    handed a DOCTYPE directly (as if the prolog scan had missed it)."""
    for target in targets.values():
        for name in ("external-subset", "parameter-entity"):
            parser, resolver = _hostile_parser(remove_blank_text=False)
            etree.fromstring(_hostile_docs(target)[name], parser)
            assert resolver.asked, name  # it was asked, and answered with nothing


_STRACE_CHILD = """
import sys
from lxml import etree
from gateway.wire.safexml import _hostile_parser, parse_xml
from test_safexml import _hostile_docs
from pathlib import Path
for target in sys.argv[1:]:
    for name, doc in _hostile_docs(Path(target)).items():
        try:
            parse_xml(doc)
        except ValueError:  # refused; whether a file was opened on the way is what strace tells
            pass
        else:
            raise SystemExit(f"{name} parsed")
        parser, _ = _hostile_parser(remove_blank_text=False)
        try:
            etree.fromstring(doc, parser)
        except etree.XMLSyntaxError:
            pass
print("done")
"""


def test_no_open_seen_by_strace(targets: dict[str, Path], tmp_path: Path) -> None:
    """libxml2 opens files in C, where no Python audit event is raised: watch the system calls. The
    FIFO would block an open() forever, so the timeout also proves no open was attempted."""
    strace = shutil.which("strace")
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    if strace is None:
        if ci:
            pytest.fail("strace is missing: .ci/run installs it")
        pytest.skip("strace is not installed")
    log = tmp_path / "strace.log"
    repo = Path(__file__).resolve().parents[1]
    path = [str(repo), str(repo / "tests"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    cmd = [strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(log), sys.executable, "-c", _STRACE_CHILD]
    started = time.monotonic()
    # Its own session, so a child stuck on the FIFO (the bug) is killed with strace, not orphaned.
    proc = subprocess.Popen(
        [*cmd, *(str(p) for p in targets.values())],
        env=env,
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("parsing hung (a FIFO named in a DTD was opened?)")
    done = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    elapsed = time.monotonic() - started
    if done.returncode != 0 and "ptrace" in done.stderr.lower() and not ci:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "done"
    trace = log.read_text()
    assert "test_safexml.py" in trace  # strace did see the child's opens, Python's and libxml2's
    for target in targets.values():
        assert str(target) not in trace, f"{target} was opened"
    assert elapsed < 30  # the FIFO was never opened, so nothing blocked


def test_encodings_the_scan_cannot_read_are_refused() -> None:
    doctype = '<!DOCTYPE a SYSTEM "/etc/passwd"><a/>'
    for name, doc in {
        "utf-32": doctype.encode("utf-32"),
        "utf-32-le-no-bom": doctype.encode("utf-32-le"),
        "utf-7": b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE a SYSTEM +ACI-/etc/passwd+ACI-+AD4-<a/>',
        "ebcdic": '<?xml version="1.0" encoding="cp500"?><a/>'.encode("cp500"),
        "shift-jis": b'<?xml version="1.0" encoding="Shift_JIS"?><a/>',
        "unknown": b'<?xml version="1.0" encoding="x-nonsense"?><a/>',
    }.items():
        with pytest.raises(XmlSecurityError) as info:
            parse_xml(doc)
        assert info.value.reason == "encoding", name


def test_accepted_encodings_and_prologs_still_parse() -> None:
    assert parse_xml('<?xml version="1.0" encoding="windows-1251"?><a>текст</a>'.encode("cp1251")).text == "текст"
    assert parse_xml('<?xml version="1.0" encoding="UTF-16"?><a>текст</a>'.encode("utf-16")).text == "текст"
    assert parse_xml(codecs.BOM_UTF8 + "<a>текст</a>".encode()).text == "текст"
    root = parse_xml(b'<?xml version="1.0"?>\n<!-- <!DOCTYPE in a comment> --><?pi <!DOCTYPE?>\n<a><!-- x --></a>')
    assert root.tag == "a"
    with pytest.raises(XmlSyntaxError):  # a DOCTYPE after the root element is not a DTD, just broken
        parse_xml(b'<a/><!DOCTYPE a SYSTEM "/etc/passwd">')


def test_prolog_scan_is_linear() -> None:
    prolog = b"<!--" + b"-" * 3_000_000 + b"-->" + b"<?pi x?>" * 200_000 + b" " * 2_000_000
    start = time.monotonic()
    with pytest.raises(XmlSecurityError):
        parse_xml(prolog + b'<!DOCTYPE a SYSTEM "/etc/passwd"><a/>')
    assert time.monotonic() - start < 2
