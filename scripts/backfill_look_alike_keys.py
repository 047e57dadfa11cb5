"""Backfill the look-alike keys (docs/leads.md, "Exact and look-alike keys") onto the leads and referrer
profiles stored before they existed, so a look-alike of an earlier contact is flagged too.

A maintenance job: run it once after deploying (again is harmless: every write is conditional, and an
erased item, which has lost its exact hashes, is never given new ones). It finds the items with a Scan,
the only one in the project and never in a request path; jobs keep no raw contact details, so they keep
their exact entries only.

    PYTHONPATH=shared python -m scripts.backfill_look_alike_keys --table TABLE --pepper-param PARAM
    # against the local stack: its moto endpoint and table from GET /_local/info, the pepper it wrote
    AWS_ENDPOINT_URL=$(curl -s http://127.0.0.1:3000/_local/info | jq -r .aws_endpoint) \\
      PYTHONPATH=shared python -m scripts.backfill_look_alike_keys \\
      --table "$(curl -s http://127.0.0.1:3000/_local/info | jq -r .tables.Table)" --pepper-file .local/pepper

Prints the counts as JSON (no contact details).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from referral_core.dal.dynamo import Item, Table, deserialize, serialize
from referral_core.dal.leads import LookAlikeBackfill
from referral_core.dal.secrets import ssm_parameter
from referral_core.services.leads import backfill_look_alike_keys

PENDING = ("#type IN (:lead, :referrer) AND ((attribute_exists(email_hash) AND attribute_not_exists(email_match_hash))"
           " OR (attribute_exists(address_hash) AND attribute_not_exists(address_match_hash)))")


def pending_items(table: Table, *, page_size: int = 500) -> Iterator[Item]:
    """Leads and referrer profiles with an exact hash but not its look-alike one (a paged Scan)."""
    start: dict[str, Any] | None = None
    while True:
        kwargs: dict[str, Any] = {"TableName": table.name, "FilterExpression": PENDING, "Limit": page_size,
                                  "ExpressionAttributeNames": {"#type": "type"},
                                  "ExpressionAttributeValues": serialize({":lead": "lead", ":referrer": "referrer"})}
        if start:
            kwargs["ExclusiveStartKey"] = serialize(start)
        page = table.client.scan(**kwargs)
        yield from (deserialize(raw) for raw in page.get("Items", []))
        if not page.get("LastEvaluatedKey"):
            return
        start = deserialize(page["LastEvaluatedKey"])


def run(table: Table, pepper: str) -> dict[str, int]:
    return backfill_look_alike_keys(LookAlikeBackfill(table), pending_items(table), pepper=pepper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", required=True, help="the table's name (the stack's Table)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--pepper-param", help="the SSM parameter holding the pepper (the stack's PepperParameter)")
    source.add_argument("--pepper-file", type=Path, help="a file holding the pepper (the local stack's .local/pepper)")
    args = parser.parse_args(argv)
    pepper = args.pepper_file.read_text().strip() if args.pepper_file else ssm_parameter(args.pepper_param)
    print(json.dumps(run(Table(args.table), pepper)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
