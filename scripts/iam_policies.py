"""Suggest least-privilege DynamoDB statements per function from what the tests saw them call.

    .venv/bin/python -m pytest tests/integration        # writes test-artifacts/iam-usage.json
    .venv/bin/python -m scripts.iam_policies [Function ...]

For each function: one statement per set of item actions that share the same partition prefixes
(``dynamodb:LeadingKeys``), one per index it queries, and the other calls it made (to grant as SAM policy
templates or inline statements; see docs/architecture.md, "Least privilege"). Paste, review, then run the
integration tests again: the recorder fails on a call without a grant and, after a full run, on a grant
no call used. A suggestion only covers the code paths the tests exercise.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

from local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
CALL = re.compile(r"^(?P<action>\S+) (?P<resource>\S+)(?: \[(?P<shapes>.*)\])?$")


def suggest(report: dict, template_path: Path, only: set[str]) -> str:
    tpl = load_template(template_path)
    tables = {str(tpl.get_att(t, "Arn")): t for t in tpl.logical_ids("AWS::DynamoDB::Table")}
    out: list[str] = []
    for function, entry in sorted(report["functions"].items()):
        if only and function not in only:
            continue
        items: dict[tuple[str, str], set[str]] = defaultdict(set)  # (table, action) -> prefixes
        indexes: dict[str, set[str]] = defaultdict(set)
        other: dict[str, set[str]] = defaultdict(set)
        for key in entry["calls"]:
            found = CALL.match(key)
            if not found:
                continue
            action, resource = found["action"], found["resource"]
            table_arn, _, index = resource.partition("/index/")
            if table_arn in tables and index:
                indexes[f'!Sub "${{{tables[table_arn]}.Arn}}/index/{index}"'].add(action)
            elif resource in tables:
                shapes = (found["shapes"] or "").split(", ")
                items[tables[resource], action].update(s.replace("…", "*") for s in shapes if s)
            else:
                other[resource].add(action)
        out.append(f"# {function}\n        - Statement:")
        grouped: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
        for (table, action), prefixes in sorted(items.items()):
            grouped[table, tuple(sorted(prefixes))].append(action)
        for (table, prefixes), actions in grouped.items():
            keys = ", ".join(f'"{p}"' for p in prefixes)
            condition = f'{{"ForAllValues:StringLike": {{"dynamodb:LeadingKeys": [{keys}]}}}}'
            head = f"            - {{Effect: Allow, Action: [{', '.join(actions)}], Resource: !GetAtt {table}.Arn,"
            out.append(f"{head}\n               Condition: {condition}}}")
        for resource, actions in sorted(indexes.items()):
            out.append(f"            - {{Effect: Allow, Action: [{', '.join(sorted(actions))}], Resource: {resource}}}")
        for resource, actions in sorted(other.items()):
            out.append(f"        # and {', '.join(sorted(actions))} on {resource}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("functions", nargs="*", help="logical ids (default: every function that called AWS)")
    parser.add_argument("--report", type=Path, default=ROOT / "test-artifacts" / "iam-usage.json")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    args = parser.parse_args()
    print(suggest(json.loads(args.report.read_text(encoding="utf-8")), args.template, set(args.functions)))


if __name__ == "__main__":
    main()
