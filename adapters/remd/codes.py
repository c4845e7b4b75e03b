"""REMD's error codes and what each means for delivery.

``error-codes.tsv`` beside this module is NSI 1.2.643.5.1.13.13.99.2.305 (code, NSI id,
description), copied from the project's reference set (gathered from the published NSI list), with
the project's class per code (``transient``, ``permanent``, ``already-there``, ``rate-limit`` with
its wait); the class column is the project's judgement, reviewed in issue 6. Signature codes are
permanent: the same signature fails the same way again. ``SOAP_FAULT`` (a fault without a REMD
code) is the project's own row.

REMD's registration timeout («Не удалось зарегистрировать документ за отведенное время», the most
common failure of 2023) arrives with varying codes, so it is recognised by its text. REMD spells
some codes ``RECIPIENT_*`` where the list says ``RECEPIENT_*``: both are accepted.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from gateway.peers.codes import CodeClass, CodeRule, CodeTable, TextRule

__all__ = ["REGISTRATION_TIMEOUT", "remd_code_table"]

REGISTRATION_TIMEOUT = TextRule(
    re.compile(r"не\s+удалось\s+зарегистрировать\s+документ\s+за\s+отведенн?ое\s+время", re.I),
    CodeRule(
        CodeClass.TRANSIENT,
        description="РЭМД не зарегистрировал документ за отведённое время",
        description_en="REMD did not register the document in time",
        action_ru="Шлюз повторит сам. Если документы в DEAD — проверьте в РЭМД, не зарегистрирован ли документ, "
        "и отправьте повторно.",
        action_en="The gateway retries by itself. If the documents are DEAD, check in REMD whether the document "
        "was registered after all, and resend.",
    ),
    cause="registration-timeout",
)


@cache
def remd_code_table() -> CodeTable:
    text = resources.files("adapters.remd").joinpath("error-codes.tsv").read_text("utf-8")
    table = CodeTable.from_tsv(text, source="adapters/remd/error-codes.tsv", texts=(REGISTRATION_TIMEOUT,))
    aliases = {
        "RECIPIENT_" + code.removeprefix("RECEPIENT_"): code for code in table.codes if code.startswith("RECEPIENT_")
    }
    return CodeTable(table.codes, table.texts, table.unknown, table.source, aliases)
