"""Benchmarks: `bench delivery` and the process wrapper it shares with the chaos script; `bench verify`
(``verify.py``), `bench verify-xml` (``verify_xml.py``) and the GOST primitives (``gost.py``).

Not part of the product's hot path."""
