"""Lambda event-filtering patterns (FilterCriteria) over DynamoDB stream records."""

from __future__ import annotations

from typing import Any

import pytest

from referral_core.event_filters import matches, matches_any

pytestmark = pytest.mark.unit

RECORD: dict[str, Any] = {
    "eventName": "INSERT",
    "awsRegion": "us-east-1",
    "dynamodb": {
        "Keys": {"pk": {"S": "REF#1"}},
        "NewImage": {
            "type": {"S": "referrer"},
            "email": {"S": "ann@example.com"},
            "tags": {"SS": ["a", "b"]},
        },
        "SizeBytes": 120,
        "Approved": True,
    },
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT"]}, True),
        ({"eventName": ["MODIFY", "REMOVE"]}, False),
        ({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"type": {"S": ["referrer"]}}}}, True),
        ({"dynamodb": {"NewImage": {"type": {"S": ["lead"]}}}}, False),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "REF#"}]}}}}, True),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "LEAD#"}]}}}}, False),
        ({"dynamodb": {"NewImage": {"email": {"S": [{"suffix": "@example.com"}]}}}}, True),
        ({"eventName": [{"equals-ignore-case": "insert"}]}, True),
        ({"dynamodb": {"NewImage": {"email": {"S": [{"exists": True}]}}}}, True),
        ({"dynamodb": {"NewImage": {"phone": [{"exists": True}]}}}, False),
        ({"dynamodb": {"NewImage": {"phone": [{"exists": False}]}}}, True),
        ({"dynamodb": {"OldImage": [{"exists": False}]}}, True),
        ({"eventName": [{"anything-but": "REMOVE"}]}, True),
        ({"eventName": [{"anything-but": ["INSERT", "MODIFY"]}]}, False),
        ({"eventName": [{"anything-but": {"prefix": "INS"}}]}, False),
        ({"dynamodb": {"SizeBytes": [{"numeric": [">", 100, "<=", 200]}]}}, True),
        ({"dynamodb": {"SizeBytes": [{"numeric": ["<", 100]}]}}, False),
        ({"dynamodb": {"SizeBytes": [120]}}, True),
        ({"dynamodb": {"SizeBytes": ["120"]}}, False),  # types must agree
        ({"dynamodb": {"Approved": [True]}}, True),
        ({"dynamodb": {"Approved": [1]}}, False),
        ({"dynamodb": {"NewImage": {"tags": {"SS": ["b"]}}}}, True),  # any element of a list value
        ({"dynamodb": {"NewImage": {"missing": {"S": ["x"]}}}}, False),
        ({"eventName": ["INSERT"], "awsRegion": ["eu-west-1"]}, False),  # every key must match
    ],
)
def test_pattern_table(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, RECORD) is expected


def test_filters_are_ored_and_no_filter_keeps_everything() -> None:
    no = {"eventName": ["REMOVE"]}
    yes = {"eventName": ["INSERT"]}
    assert matches_any([no, yes], RECORD)
    assert not matches_any([no], RECORD)
    assert matches_any([], RECORD)


def test_bad_pattern_is_rejected() -> None:
    with pytest.raises(ValueError, match="object or a list"):
        matches({"eventName": "INSERT"}, RECORD)
