"""Payout details at rest: KMS envelope encryption, the stored payout method and the audit of a reveal.

Envelope encryption (the AWS KMS developer guide, "Envelope encryption"): each save asks KMS for a fresh
256-bit data key (``GenerateDataKey`` on the ``PayoutKey`` of template.yaml), encrypts the details with it
locally (AES-256-GCM, ``cryptography``) and keeps only the data key *as KMS encrypted it*. The plaintext key
is dropped at once. Reading the details back needs ``kms:Decrypt`` on that key, which only the staff
function holds (the portal may only encrypt). The KMS encryption context and the AES-GCM associated data
both name the referrer, so an envelope copied onto another referrer's item does not open.

The item (``REFERRER#{id}``/``PAYOUT_METHOD``, docs/data-model.md) holds the envelope and the masked form
only; so do the stream images, exports and backups of it, and the copy on each withdrawal.

The KMS client and ``cryptography`` are loaded on the first save or reveal, not when the module loads: the
portal's cold start (and its sign-in requests) carry neither. ``cryptography`` comes from the
``PayoutCryptoLayer`` (template.yaml), in a folder on no import path (:data:`CRYPTO_LAYER_DIR`), because
PyJWT imports it at start-up whenever it can find it.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from referral_core.dal.audit import audit_entry
from referral_core.dal.aws import client
from referral_core.dal.dynamo import Item, Table
from referral_core.errors import Unavailable

#: Where the PayoutCryptoLayer puts ``cryptography`` in Lambda (layers/payout_crypto/Makefile). Elsewhere (tests,
#: the local stack) it is an ordinary installed package.
CRYPTO_LAYER_DIR = "/opt/payout_crypto"
ALGORITHM = "AES-256-GCM"
PURPOSE = "payout-details"
_RETRYABLE = frozenset({"ThrottlingException", "KMSInternalException", "DependencyTimeoutException",
                        "LimitExceededException"})


def payout_method_key(referrer_id: str) -> tuple[str, str]:
    return f"REFERRER#{referrer_id}", "PAYOUT_METHOD"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class Envelope:
    """Ciphertext, its nonce and the data key as KMS encrypted it: all of it safe to store and copy."""

    key_arn: str
    encrypted_key: str  # base64 of KMS's CiphertextBlob
    nonce: str  # base64, 12 bytes
    ciphertext: str  # base64 of the AES-GCM output (with its tag)
    algorithm: str = ALGORITHM

    def as_item(self) -> dict[str, str]:
        return {"key_arn": self.key_arn, "encrypted_key": self.encrypted_key, "nonce": self.nonce,
                "ciphertext": self.ciphertext, "algorithm": self.algorithm}

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Envelope:
        return cls(key_arn=str(item["key_arn"]), encrypted_key=str(item["encrypted_key"]),
                   nonce=str(item["nonce"]), ciphertext=str(item["ciphertext"]),
                   algorithm=str(item.get("algorithm") or ALGORITHM))


def _context(referrer_id: str) -> dict[str, str]:
    return {"purpose": PURPOSE, "referrer_id": referrer_id}


def _associated_data(referrer_id: str) -> bytes:
    return f"{PURPOSE}|{referrer_id}".encode()


def _aesgcm(key: bytes) -> Any:
    """AES-GCM with ``key``, importing ``cryptography`` from the layer's folder on first use."""
    if CRYPTO_LAYER_DIR not in sys.path and os.path.isdir(CRYPTO_LAYER_DIR):
        sys.path.append(CRYPTO_LAYER_DIR)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _kms(operation: str, **params: Any) -> dict[str, Any]:
    try:
        out: dict[str, Any] = getattr(client("kms"), operation)(**params)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in _RETRYABLE:
            raise Unavailable("the key service is busy, please retry", retry_after=1) from exc
        raise
    return out


class PayoutVault:
    """Seals and opens payout details with the stack's payout key (``key_arn``: the key's ARN)."""

    def __init__(self, key_arn: str) -> None:
        self.key_arn = key_arn

    def seal(self, plaintext: bytes, *, referrer_id: str) -> Envelope:
        data_key = _kms("generate_data_key", KeyId=self.key_arn, KeySpec="AES_256",
                        EncryptionContext=_context(referrer_id))
        nonce = os.urandom(12)
        sealed = _aesgcm(data_key["Plaintext"]).encrypt(nonce, plaintext, _associated_data(referrer_id))
        return Envelope(key_arn=self.key_arn, encrypted_key=_b64(data_key["CiphertextBlob"]), nonce=_b64(nonce),
                        ciphertext=_b64(sealed))

    def open(self, envelope: Envelope, *, referrer_id: str) -> bytes:
        """The plaintext; KMS refuses (and this raises) for another referrer's envelope or a caller without
        ``kms:Decrypt`` on the key."""
        data_key = _kms("decrypt", KeyId=self.key_arn, CiphertextBlob=base64.b64decode(envelope.encrypted_key),
                        EncryptionContext=_context(referrer_id))
        opened: bytes = _aesgcm(data_key["Plaintext"]).decrypt(
            base64.b64decode(envelope.nonce), base64.b64decode(envelope.ciphertext), _associated_data(referrer_id))
        return opened


class PayoutMethodRepository:
    """The one payout method on file per referrer (replaced by each change)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, referrer_id: str) -> Item | None:
        return self.table.get(*payout_method_key(referrer_id), consistent=True)

    def save(self, referrer_id: str, *, envelope: Envelope, masked: Mapping[str, Any], at: str) -> Item:
        pk, sk = payout_method_key(referrer_id)
        item = {"pk": pk, "sk": sk, "type": "payout_method", "referrer_id": referrer_id,
                "envelope": envelope.as_item(), "masked": dict(masked), "updated_at": at}
        self.table.put(item)
        return item

    def record_reveal(self, withdrawal_id: str, *, actor: str, at: str, detail: Mapping[str, Any]) -> None:
        """The audit entry of one reveal, in the withdrawal's partition (written before the details leave)."""
        put = audit_entry(f"WITHDRAWAL#{withdrawal_id}", actor=actor, action="withdrawal.payout_details_revealed",
                          detail=dict(detail), at=at)
        self.table.put(put.item, condition=put.condition)
