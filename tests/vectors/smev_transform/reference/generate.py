"""Regenerate the reference-derived expected outputs of tests/vectors/smev_transform/.

For every row of ../cases.tsv this script takes ``cases/<name>.in.xml``, selects the element whose
``Id`` attribute is ``select_id`` (or the root), serializes it as exclusive XML canonicalization
without comments (what an XMLDSig reference applies before the SMEV transform) and runs
SmevTransformRef.java (the reference SmevTransformSpi, see its header) on those bytes twice:

* with the JDK's own StAX implementation -> ``cases/<name>.out.xml`` (only for rows whose
  ``expected_from`` is ``java-reference``; ``published`` rows keep the published output, and the
  script checks that the reference agrees with it);
* with Woodstox on the classpath (Debian package libwoodstox-java: /usr/share/java/woodstox-core.jar
  and stax2-api.jar) -> ``cases/<name>.woodstox.out.xml``, or ``cases/<name>.woodstox.err`` with
  the exception when Woodstox refuses the input.

Needs a JDK (javac, java) on PATH. Run from the project root:
    .venv/bin/python tests/vectors/smev_transform/reference/generate.py
The gateway never runs Java; this is how the expected files were made, kept so anyone can redo it.
"""

from __future__ import annotations

import csv
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent


def exc_c14n(data: bytes, select_id: str) -> bytes:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(data, parser)
    element = root
    if select_id:
        found = root.xpath("//*[@Id=$id]", id=select_id)
        assert isinstance(found, list) and len(found) == 1, f"Id {select_id!r} must occur once"
        element = found[0]
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


WOODSTOX_JARS = [Path("/usr/share/java/woodstox-core.jar"), Path("/usr/share/java/stax2-api.jar")]


def run_reference(docs: list[bytes], classes: Path, *, woodstox: bool = False) -> list[tuple[int, bytes]]:
    payload = b"".join(struct.pack(">i", len(d)) + d for d in docs)
    classpath = ":".join([str(classes), *(str(j) for j in WOODSTOX_JARS if woodstox)])
    proc = subprocess.run(
        ["java", "-cp", classpath, "SmevTransformRef"], input=payload, capture_output=True, check=True
    )
    out, pos, results = proc.stdout, 0, []
    while pos < len(out):
        status, length = struct.unpack(">ii", out[pos : pos + 8])
        pos += 8
        results.append((status, out[pos : pos + length]))
        pos += length
    return results


def main() -> int:
    with open(VECTORS / "cases.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    cases = VECTORS / "cases"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["javac", "-d", tmp, str(HERE / "SmevTransformRef.java")], check=True)
        docs = [exc_c14n((cases / f"{r['name']}.in.xml").read_bytes(), r["select_id"]) for r in rows]
        for row, (status, output) in zip(rows, run_reference(docs, Path(tmp)), strict=True):
            name = row["name"]
            if status != 0:
                print(f"{name}: reference failed: {output.decode()}", file=sys.stderr)
                return 1
            if row["expected_from"] == "published":
                agrees = (cases / f"{name}.out.xml").read_bytes() == output
                print(f"{name}: published output, JDK reference {'agrees' if agrees else 'DIFFERS'}")
            else:
                (cases / f"{name}.out.xml").write_bytes(output)
                print(f"{name}: jdk {len(output)} bytes")
        if not all(j.is_file() for j in WOODSTOX_JARS):
            print("Woodstox jars not found: woodstox outputs not regenerated", file=sys.stderr)
            return 0
        for row, (status, output) in zip(rows, run_reference(docs, Path(tmp), woodstox=True), strict=True):
            name = row["name"]
            (cases / f"{name}.woodstox.out.xml").unlink(missing_ok=True)
            (cases / f"{name}.woodstox.err").unlink(missing_ok=True)
            if status == 0:
                (cases / f"{name}.woodstox.out.xml").write_bytes(output)
                print(f"{name}: woodstox {len(output)} bytes")
            else:
                (cases / f"{name}.woodstox.err").write_bytes(output + b"\n")
                print(f"{name}: woodstox refused: {output.decode()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
