"""MessageID: UUID version 1 (RFC 4122 variant), lower case, unique; the validator refuses the rest."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.smev3.identity import MessageIdError, check_message_id, message_id_time, new_message_id

XSD_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # basic:UUID


def test_new_message_id_is_uuid_v1_rfc4122() -> None:
    ids = [new_message_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for value in ids[:50]:
        parsed = uuid.UUID(value)
        assert parsed.version == 1
        assert parsed.variant == uuid.RFC_4122
        assert XSD_UUID.fullmatch(value)
        assert check_message_id(value) == parsed


def test_message_id_time_is_now() -> None:
    moment = message_id_time(new_message_id())
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "at",
    [
        datetime(2015, 8, 5, 12, 30, 1, 654321, tzinfo=UTC),
        datetime(2026, 12, 4, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2027, 3, 1, 3, 0, tzinfo=timezone(timedelta(hours=3))),  # Moscow offset: same instant
    ],
)
def test_message_id_made_on_a_given_clock_carries_its_time(at: datetime) -> None:
    # a sandbox's simulated clock: SMEV's StaleMessageId check reads this time, not the host's
    ids = [new_message_id(at) for _ in range(2000)]
    assert len(set(ids)) == len(ids)  # same 100-ns tick, still unique (random clock sequence and node)
    for value in ids[:50]:
        parsed = check_message_id(value)
        assert parsed.version == 1 and parsed.variant == uuid.RFC_4122
        assert message_id_time(value) == at
        assert parsed.node & 0x0100_0000_0000  # multicast bit: a random node, never a MAC


@pytest.mark.parametrize(
    "value",
    [
        # fixed values, so that every test process collects the same test ids (pytest-xdist)
        "0b1fd3a8-7c5e-4d52-9a0e-3f6b2c1d4e5f",  # version 4
        "DB0486D0-3C08-11E5-95E2-D4C9EFF07B77",  # upper case: the XSD pattern refuses it
        "not-a-uuid",
        "",
        "db0486d0-3c08-11e5-15e2-d4c9eff07b77",  # version 1 digit, NCS variant
        "db0486d03c0811e595e2d4c9eff07b77",  # no dashes
        str(uuid.uuid3(uuid.NAMESPACE_DNS, "mse")),
    ],
    ids=["v4", "upper-case", "not-a-uuid", "empty", "ncs-variant", "no-dashes", "v3"],
)
def test_check_message_id_refuses(value: str) -> None:
    with pytest.raises(MessageIdError):
        check_message_id(value)


def test_known_smev_id_accepted() -> None:
    # a MessageID from the SMEV 3 methodological recommendations' examples
    assert check_message_id("db0486d0-3c08-11e5-95e2-d4c9eff07b77").version == 1
    assert message_id_time("db0486d0-3c08-11e5-95e2-d4c9eff07b77").year == 2015
