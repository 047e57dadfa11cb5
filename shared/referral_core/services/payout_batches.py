"""Pay in a batch (issue 19, item 5): staff put requested withdrawals into one batch, download its ABA
(Cemtex) direct-entry file for the bank (or a CSV with the same payments), then mark the whole batch paid
with the bank's reference.

- A batch takes ``requested`` withdrawals only (not ``on_hold``, not decided), each once, each with a
  **bank account** payout method on file when it was requested: PayID and PayPal withdrawals are refused
  (422 naming ``withdrawal_ids.{i}``), since an ABA file pays BSB + account only; pay those one by one.
- A marker per withdrawal, written in the batch's transaction only if absent, keeps it out of any other
  batch (409 naming it).
- ``file.aba``/``file.csv`` decrypt the payout details (the staff function's ``kms:Decrypt``); each download
  is audited on the batch and as a reveal on every withdrawal before anything is decrypted. Only while open.
- Marking paid records each withdrawal's payout through the one path (``mark_withdrawal_paid``: a ledger
  transaction each) and skips those already paid, so a retry after a partial failure completes the rest and
  never pays twice; the batch becomes ``paid`` last.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from referral_core.clock import iso, now
from referral_core.dal.payout_batches import PayoutBatchRepository
from referral_core.dal.payout_methods import Envelope, PayoutMethodRepository, PayoutVault
from referral_core.dal.rewards import RewardRepos
from referral_core.dal.withdrawals import WithdrawalStatus
from referral_core.errors import Conflict, InvalidInput, NotFound
from referral_core.ids import new_id
from referral_core.models.payout_batches import (
    CreatePayoutBatchRequest,
    PayoutBatch,
    PayoutBatchPage,
    PayoutBatchPaidRequest,
    PayoutBatchSummary,
)
from referral_core.models.program import PayoutFile
from referral_core.models.rewards import MarkPaidRequest
from referral_core.services.aba import AbaPayment, AbaSettings, aba_file
from referral_core.services.exports import decimal_amount, safe_cell
from referral_core.services.program import current_program
from referral_core.services.withdrawals import mark_withdrawal_paid

OPEN, PAID = "open", "paid"


@dataclass(frozen=True)
class BatchFile:
    body: str
    filename: str


def create_batch(repos: RewardRepos, batches: PayoutBatchRepository, request: CreatePayoutBatchRequest, *,
                 actor: str) -> PayoutBatch:
    """One batch of ``request.withdrawal_ids`` (201). 422 naming ``withdrawal_ids.{i}`` for an id given twice,
    unknown, not requested (on hold, paid, rejected) or without a bank account; 409 naming it when another
    batch holds it (or it changed meanwhile)."""
    ids = request.withdrawal_ids
    found = batches.withdrawals(ids)
    seen: set[str] = set()
    items: list[dict[str, Any]] = []
    for index, withdrawal_id in enumerate(ids):
        field = f"withdrawal_ids.{index}"
        if withdrawal_id in seen:
            raise InvalidInput(f"withdrawal {withdrawal_id} is listed twice", fields={field: "listed twice"})
        seen.add(withdrawal_id)
        withdrawal = found.get(withdrawal_id)
        if withdrawal is None:
            raise InvalidInput(f"no withdrawal {withdrawal_id}", fields={field: "no such withdrawal"})
        if withdrawal["status"] != WithdrawalStatus.REQUESTED:
            raise InvalidInput(f"withdrawal {withdrawal_id} is {withdrawal['status']}: a batch takes requested "
                               "withdrawals only", fields={field: f"is {withdrawal['status']}"})
        method = withdrawal.get("payout_method") or {}
        if method.get("type") != "bank_account" or not withdrawal.get("payout_envelope"):
            raise InvalidInput(f"withdrawal {withdrawal_id} is not to a bank account: an ABA file pays bank "
                               "accounts only; pay it by itself", fields={field: "not a bank account payout"})
        if batches.marker(withdrawal_id) is not None:
            raise Conflict(f"withdrawal {withdrawal_id} is already in a batch", fields={field: "already in a batch"})
        items.append({"withdrawal_id": withdrawal_id, "referrer_id": str(withdrawal["referrer_id"]),
                      "amount_cents": int(withdrawal["amount_cents"]), "payout_method": dict(method)})
    batch = {"batch_id": new_id(), "status": OPEN, "currency": repos.currency, "items": items,
             "total_cents": sum(int(i["amount_cents"]) for i in items), "count": len(items), "created_at": iso(),
             "created_by": actor}
    batches.create(batch, actor=actor)
    return PayoutBatch.model_validate(batch)


def _batch(batches: PayoutBatchRepository, batch_id: str) -> dict[str, Any]:
    batch = batches.get(batch_id)
    if batch is None:
        raise NotFound("no such payout batch")
    return batch


def get_batch(batches: PayoutBatchRepository, batch_id: str) -> PayoutBatch:
    return PayoutBatch.model_validate(_batch(batches, batch_id))


def list_batches(batches: PayoutBatchRepository, *, cursor: str | None = None, limit: int = 20) -> PayoutBatchPage:
    items, next_cursor = batches.page(limit=limit, cursor=cursor)
    return PayoutBatchPage(items=[PayoutBatchSummary.model_validate(i) for i in items], next_cursor=next_cursor)


def aba_settings(payout_file: PayoutFile) -> AbaSettings:
    """The programme's bank-file settings; 409 naming the first one not set yet."""
    missing = [f for f in ("apca_user_id", "user_name", "remitter_name", "financial_institution", "bsb",
                           "account_number") if not getattr(payout_file, f)]
    if missing:
        raise Conflict("set the bank file settings in the programme rules first",
                       fields={f"payout_file.{f}": "not set" for f in missing})
    return AbaSettings(financial_institution=str(payout_file.financial_institution),
                       user_name=str(payout_file.user_name), apca_user_id=str(payout_file.apca_user_id),
                       remitter_name=str(payout_file.remitter_name), trace_bsb=str(payout_file.bsb),
                       trace_account=str(payout_file.account_number))


def _reference(withdrawal_id: str) -> str:
    """The lodgement reference a payee's statement shows (18 characters at most)."""
    return f"REWARD {withdrawal_id[-11:]}".upper()


def _details(repos: RewardRepos, batches: PayoutBatchRepository, payout_methods: PayoutMethodRepository,
             vault: PayoutVault, batch: Mapping[str, Any], *, actor: str, file_format: str
             ) -> list[tuple[Mapping[str, Any], dict[str, str]]]:
    """Each item with its decrypted details, after the audit entries (batch and each withdrawal)."""
    if batch["status"] != OPEN:
        raise Conflict("the batch is paid: its payout details are no longer shown")
    withdrawals = []
    for index, item in enumerate(batch["items"]):
        withdrawal = repos.withdrawals.get(str(item["withdrawal_id"]))
        if withdrawal is None or not withdrawal.get("payout_envelope"):
            raise NotFound(f"withdrawal {item['withdrawal_id']} has no payout details")
        if withdrawal["status"] != WithdrawalStatus.REQUESTED:  # paid, rejected or put on hold since
            raise Conflict(f"withdrawal {item['withdrawal_id']} is {withdrawal['status']}: the file would pay it "
                           "wrongly; mark the batch paid to finish it",
                           fields={f"items.{index}": f"is {withdrawal['status']}"})
        withdrawals.append(withdrawal)
    at = iso()
    batches.record_download(str(batch["batch_id"]), actor=actor, at=at, detail={
        "format": file_format, "withdrawal_ids": [i["withdrawal_id"] for i in batch["items"]]})
    out = []
    for item, withdrawal in zip(batch["items"], withdrawals, strict=True):
        referrer_id = str(withdrawal["referrer_id"])
        payout_methods.record_reveal(str(item["withdrawal_id"]), actor=actor, at=at, detail={
            "referrer_id": referrer_id, "payout_method": item["payout_method"].get("display"),
            "batch_id": batch["batch_id"], "format": file_format})
        details = json.loads(vault.open(Envelope.of(withdrawal["payout_envelope"]), referrer_id=referrer_id))
        out.append((item, details))
    return out


def batch_aba(repos: RewardRepos, batches: PayoutBatchRepository, payout_methods: PayoutMethodRepository,
              vault: PayoutVault, batch_id: str, *, actor: str, today: date | None = None) -> BatchFile:
    """The ABA file paying the batch, processed today in the business's time zone (audited as a reveal)."""
    batch = _batch(batches, batch_id)
    rules = current_program(repos.program).rules
    settings = aba_settings(rules.payout_file)
    process_on = today or now().astimezone(ZoneInfo(rules.statements.time_zone)).date()
    payments = [AbaPayment(bsb=d["bsb"], account_number=d["account_number"], account_name=d["account_name"],
                           amount_cents=int(item["amount_cents"]), reference=_reference(str(item["withdrawal_id"])))
                for item, d in _details(repos, batches, payout_methods, vault, batch, actor=actor, file_format="aba")]
    body = aba_file(payments, settings, process_on=process_on, balancing_debit=rules.payout_file.balancing_record)
    return BatchFile(body=body, filename=f"payout-batch-{batch_id}.aba")


CSV_HEADER = ("withdrawal_id", "referrer_id", "amount", "currency", "bsb", "account_number", "account_name",
              "reference")


def batch_csv(repos: RewardRepos, batches: PayoutBatchRepository, payout_methods: PayoutMethodRepository,
              vault: PayoutVault, batch_id: str, *, actor: str) -> BatchFile:
    """The batch's payments with full details: the one CSV that carries them (cells formula-safe)."""
    batch = _batch(batches, batch_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for item, d in _details(repos, batches, payout_methods, vault, batch, actor=actor, file_format="csv"):
        writer.writerow([safe_cell(v) for v in (
            item["withdrawal_id"], item["referrer_id"], decimal_amount(int(item["amount_cents"])),
            batch["currency"], d.get("bsb"), d.get("account_number"), d.get("account_name"),
            _reference(str(item["withdrawal_id"])))])
    return BatchFile(body=out.getvalue(), filename=f"payout-batch-{batch_id}.csv")


def mark_batch_paid(repos: RewardRepos, batches: PayoutBatchRepository, batch_id: str,
                    request: PayoutBatchPaidRequest, *, actor: str) -> PayoutBatch:
    """Every withdrawal of the batch paid with the bank's reference, then the batch. Idempotent: one already
    paid is skipped, so a retry completes the rest; the same call on a paid batch returns it, another
    reference is 409. A withdrawal put on hold or rejected since is 409 naming it (the others stay paid)."""
    batch = _batch(batches, batch_id)
    if batch["status"] == PAID:
        if batch.get("payout_reference") != request.payout_reference:
            raise Conflict(f"the batch was already paid with reference {batch.get('payout_reference')}",
                           fields={"payout_reference": "the batch is already paid"})
        return PayoutBatch.model_validate(batch)
    for index, item in enumerate(batch["items"]):
        withdrawal_id = str(item["withdrawal_id"])
        withdrawal = repos.withdrawals.get(withdrawal_id)
        if withdrawal is not None and withdrawal["status"] == WithdrawalStatus.PAID:
            continue
        if withdrawal is None or withdrawal["status"] != WithdrawalStatus.REQUESTED:
            status = "missing" if withdrawal is None else withdrawal["status"]
            raise Conflict(f"withdrawal {withdrawal_id} is {status}: resolve it, then mark the batch paid again",
                           fields={f"items.{index}": f"is {status}"})
        mark_withdrawal_paid(repos, withdrawal_id, MarkPaidRequest(
            payout_reference=request.payout_reference, note=f"payout batch {batch_id}"), actor=actor)
    at = iso()
    batches.mark_paid(batch_id, reference=request.payout_reference, actor=actor, at=at)
    return PayoutBatch.model_validate({**batch, "status": PAID, "paid_at": at, "paid_by": actor,
                                       "payout_reference": request.payout_reference})
