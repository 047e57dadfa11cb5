"""Translate template.yaml with the SAM translator (run by aws-sam-cli's own interpreter, .venv-sam).

Prints the CloudFormation JSON on stdout. Offline: managed policies resolve to a fixed map.
"""

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class OfflinePolicies:
    def load(self) -> dict[str, str]:
        return {"AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
                "AWSLambdaBasicExecutionRole":
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}


with open(sys.argv[1]) as fh:
    template = yaml_parse(fh.read())
# As `sam package` does: local code folders become S3 objects before the transform.
for logical_id, resource in template["Resources"].items():
    props = resource.get("Properties") or {}
    for key in ("CodeUri", "ContentUri"):
        if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
            props[key] = f"s3://packaged-code/{logical_id}.zip"
print(json.dumps(transform(template, {}, OfflinePolicies())))
