"""The quick timestamp parser gives the instants botocore gives, for every form AWS uses."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.utils import parse_timestamp as botocore_timestamp

from include.dr.s3.timestamps import parse_timestamp, quick_timestamps


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-30T07:20:00.000Z",
        "2026-11-30T07:20:00Z",
        "2026-11-30T07:20:00.5Z",
        "2026-11-30T07:20:00.123456Z",
        "2026-03-29T00:59:59.999Z",
        "Mon, 30 Nov 2026 07:20:00 GMT",
        "2026-11-30T07:20:00+01:00",
        1_700_000_000,
        "1700000000",
    ],
)
def test_the_same_instant_as_botocore(value: Any) -> None:
    quick, slow = parse_timestamp(value), botocore_timestamp(value)
    assert quick == slow and quick.utcoffset() == slow.utcoffset()


def test_a_client_parses_with_it_once_set() -> None:
    s3 = boto3.client(
        "s3", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    quick_timestamps(s3)
    parser = s3._endpoint._response_parser_factory.create_parser("rest-xml")
    assert parser._timestamp_parser is parse_timestamp
