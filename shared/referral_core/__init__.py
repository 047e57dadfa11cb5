"""referral_core: the logic of the referral system, shared by every Lambda function as a layer.

Layers (docs/architecture.md):
- ``functions/<action>/`` wire Powertools to one use case and nothing else;
- ``referral_core.services`` hold the business rules as plain functions over models and repositories;
- ``referral_core.dal`` is the only package that imports boto3.
"""
