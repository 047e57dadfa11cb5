"""What referrers are told, and the once-only sending of it.

Delivery is at-most-once per notification key: a marker is claimed with a conditional write before
sending and given back if SES fails, so replays and retries never send twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from referral_core import ids
from referral_core.clock import iso, parse_iso
from referral_core.dal.dynamo import Item
from referral_core.dal.mail import Email
from referral_core.dal.notifications import DigestQueue, NotificationLog, StageEmailLimit
from referral_core.dal.referrals import lead_id_of
from referral_core.dal.referrers import ReferrerRepository
from referral_core.pages import esc
from referral_core.services.auth_links import opt_out_token
from referral_core.stages import DEFAULT_MAX_STAGE_EMAILS_PER_HOUR, Stage

POLICY_LINE = ("Referral rewards are eligible, not guaranteed: they are subject to eligibility, "
               "completion of paid work and manual review.")


def welcome_email(referrer: dict[str, Any]) -> Email:
    name = str(referrer.get("name", "there")).split()[0]
    link = str(referrer["link"])
    code = str(referrer["personal_code"])
    origin = str(referrer.get("origin", ""))
    text = (
        f"Hi {name},\n\nYou're set up to share us with friends, family and neighbours.\n\n"
        f"Your personal link: {link}\nYour code: {code}\n\n"
        f"Sign in to your dashboard at {origin}/dashboard with this email address to see your QR codes, "
        "share message and how your referrals are going.\n\n"
        "Please only share with people who might need help, never pressure anyone, and don't promise a "
        f"reward.\n{POLICY_LINE}\n"
    )
    html_body = (
        f"<p>Hi {esc(name)},</p><p>You're set up to share us with friends, family and neighbours.</p>"
        f"<p>Your personal link: <a href=\"{esc(link)}\">{esc(link)}</a><br>"
        f"Your code: <b>{esc(code)}</b></p>"
        f"<p>Sign in to your <a href=\"{esc(origin)}/dashboard\">dashboard</a> with this email address "
        "to see your QR codes, share message and how your referrals are going.</p>"
        "<p>Please only share with people who might need help, never pressure anyone, and don't promise a "
        f"reward.</p><p><small>{esc(POLICY_LINE)}</small></p>"
    )
    return Email(to=str(referrer["email"]), subject="Your referral link is ready", text=text, html=html_body)


def send_once(log: NotificationLog, key: str, email: Email, send: Callable[[Email], Any]) -> bool:
    """Send ``email`` unless notification ``key`` went out before. Returns whether it was sent now."""
    if not log.claim(key):
        return False
    try:
        send(email)
    except Exception:
        log.release(key)
        raise
    return True


def on_referrer_created(referrer: dict[str, Any], log: NotificationLog,
                        send: Callable[[Email], Any]) -> bool:
    return send_once(log, f"welcome#{referrer['referrer_id']}", welcome_email(referrer), send)


# -- referral stage changes --------------------------------------------------------------------------
STAGE_EVENT = "ReferralStageChanged"

#: Short label and one honest sentence per stage (no promise of a reward before it is available).
STAGE_LABELS: dict[str, str] = {
    Stage.RECEIVED: "Request received",
    Stage.JOB_BOOKED: "Job booked",
    Stage.JOB_COMPLETED: "Job completed",
    Stage.CUSTOMER_PAID: "Customer paid",
    Stage.REWARD_PENDING: "Reward pending",
    Stage.REWARD_AVAILABLE: "Reward available",
    Stage.REWARD_PAID: "Reward paid",
    Stage.UNDER_REVIEW: "Under review",
    Stage.NOT_ELIGIBLE: "Not eligible",
}
STAGE_SENTENCES: dict[str, str] = {
    Stage.RECEIVED: "{who} asked for help through your referral. Our team will get in touch with them; "
                    "thanks for the introduction.",
    Stage.JOB_BOOKED: "A job has been booked for {who}.",
    Stage.JOB_COMPLETED: "The job for {who} has been completed.",
    Stage.CUSTOMER_PAID: "The job for {who} has been paid. Our team now checks whether the referral is "
                         "eligible for a reward.",
    Stage.REWARD_PENDING: "The referral of {who} looks eligible for a reward. It stays pending during the "
                          "holding period and can still change, for example if the job is refunded.",
    Stage.REWARD_AVAILABLE: "The reward for the referral of {who} is now in your available balance. You can "
                            "ask for a withdrawal from your dashboard.",
    Stage.REWARD_PAID: "The reward for the referral of {who} has been paid out.",
    Stage.UNDER_REVIEW: "Our team is checking a few details of the referral of {who}. This is a normal part "
                        "of the process and nothing is needed from you.",
    Stage.NOT_ELIGIBLE: "The referral of {who} is not eligible for a reward ({reason}). Thank you for the "
                        "introduction all the same.",
}
#: The public reason categories a referrer may see for ``not_eligible`` (never private details), in words.
REASON_LABELS: dict[str, str] = {
    "existing_customer": "they were already a customer",
    "duplicate": "they had already asked for help or been referred",
    "outside_service_area": "they are outside our service area",
    "job_not_completed": "the job was not completed",
    "job_refunded": "the job was refunded",
    "below_minimum_value": "the job was below the minimum value",
    "outside_attribution_window": "the request came after the referral window",
    "programme_rules": "the programme rules",
    "staff_decision": "a decision by our team",
    "zone_locked": "they are outside the area the code they used is for",
}


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize())


def reason_label(reason: str | None) -> str | None:
    return REASON_LABELS.get(reason or "", "the programme rules") if reason else None


def stage_change(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> tuple[str | None, str] | None:
    """``(before, after)`` when the visible stage changed; None for other writes (and no-op MODIFYs)."""
    before, after = (old or {}).get("stage"), new.get("stage")
    if not after or before == after:
        return None
    return (str(before) if before else None), str(after)


def stage_sentence(referral: Mapping[str, Any]) -> str:
    """The one sentence for the referral's stage: masked name and postcode only."""
    who = str(referral.get("masked_name") or "someone you referred")
    where = f" ({referral['postcode']})" if referral.get("postcode") else ""
    return STAGE_SENTENCES.get(str(referral["stage"]), "The referral of {who} moved to a new stage.").format(
        who=f"{who}{where}", reason=reason_label(str(referral.get("not_eligible_reason") or "")) or "")


def opt_out_link(referrer: Mapping[str, Any], *, signing_key: str) -> str:
    """The signed one-click link that stops stage emails (``/me/notifications/opt-out``)."""
    token = opt_out_token(str(referrer["referrer_id"]), signing_key=signing_key)
    return f"{str(referrer.get('origin', '')).rstrip('/')}/me/notifications/opt-out?token={token}"


def stage_email(referrer: Mapping[str, Any], referral: Mapping[str, Any], *, opt_out_url: str) -> Email:
    """The stage email: masked name and postcode only, never the customer's contact details."""
    stage = str(referral["stage"])
    name = str(referrer.get("name") or "there").split()[0]
    sentence = stage_sentence(referral)
    dashboard = f"{str(referrer.get('origin', '')).rstrip('/')}/dashboard"
    text = (f"Hi {name},\n\n{sentence}\n\nSee all your referrals: {dashboard}\n\n{POLICY_LINE}\n\n"
            f"Don't want these updates? Stop them here: {opt_out_url}\n")
    html_body = (f"<p>Hi {esc(name)},</p><p>{esc(sentence)}</p>"
                 f"<p><a href=\"{esc(dashboard)}\">See all your referrals</a></p>"
                 f"<p><small>{esc(POLICY_LINE)}</small></p>"
                 f"<p><small>Don't want these updates? <a href=\"{esc(opt_out_url)}\">Stop them</a>.</small></p>")
    return Email(to=str(referrer["email"]), subject=f"Referral update: {stage_label(stage)}", text=text,
                 html=html_body)


def digest_email(referrer: Mapping[str, Any], entries: list[Item], *, opt_out_url: str) -> Email:
    """One email for the stage changes held back in an hour (oldest first), worded as the single ones."""
    name = str(referrer.get("name") or "there").split()[0]
    sentences = [stage_sentence(entry) for entry in sorted(entries, key=lambda e: (str(e.get("at") or ""),
                                                                                  str(e["sk"])))]
    dashboard = f"{str(referrer.get('origin', '')).rstrip('/')}/dashboard"
    count = f"{len(sentences)} update{'s' if len(sentences) != 1 else ''}"
    text = (f"Hi {name},\n\nHere is what happened with your referrals in the last hour ({count}):\n\n"
            + "".join(f"- {sentence}\n" for sentence in sentences)
            + f"\nSee all your referrals: {dashboard}\n\n{POLICY_LINE}\n\n"
            f"Don't want these updates? Stop them here: {opt_out_url}\n")
    html_body = (f"<p>Hi {esc(name)},</p><p>Here is what happened with your referrals in the last hour "
                 f"({esc(count)}):</p><ul>" + "".join(f"<li>{esc(sentence)}</li>" for sentence in sentences)
                 + f"</ul><p><a href=\"{esc(dashboard)}\">See all your referrals</a></p>"
                 f"<p><small>{esc(POLICY_LINE)}</small></p>"
                 f"<p><small>Don't want these updates? <a href=\"{esc(opt_out_url)}\">Stop them</a>.</small></p>")
    return Email(to=str(referrer["email"]), subject=f"Referral updates: {count}", text=text, html=html_body)


def digest_entry(referral: Mapping[str, Any]) -> Item:
    """What a held-back stage change keeps for the digest: no contact details, as the referral item."""
    entry = {"lead_id": lead_id_of(referral), "stage": str(referral["stage"]),
             "masked_name": referral.get("masked_name"), "postcode": referral.get("postcode"),
             "not_eligible_reason": referral.get("not_eligible_reason"), "at": referral.get("updated_at") or iso()}
    return {key: value for key, value in entry.items() if value is not None}


@dataclass(frozen=True, kw_only=True)
class StageNotifier:
    """What telling a referrer about a stage change needs (the function wires the real ones)."""

    referrers: ReferrerRepository
    log: NotificationLog
    send: Callable[[Email], Any]
    publish: Callable[[str, Mapping[str, Any]], Any]
    opt_out_url: Callable[[Mapping[str, Any]], str]
    limit: StageEmailLimit
    digests: DigestQueue


def on_referral_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any], notifier: StageNotifier) -> str:
    """Publish ``ReferralStageChanged`` and email the referrer, once per (referral, stage).

    The marker ``stage#{lead_id}#{stage}`` is claimed first, so a replayed record, a no-op MODIFY or the
    same stage reached again (after a review hold) sends nothing. The event goes out before the email:
    if the email then fails, the marker is released and the retry may repeat the event (EventBridge is
    at-least-once anyway) but the email is never sent twice. Opted-out, suspended and erased referrers get
    the event only. Past the programme's ``max_stage_emails_per_hour`` for the referrer in this clock hour, the change
    is queued for the digest (:func:`send_due_digests`) instead of emailed. Returns what happened.
    """
    change = stage_change(old, new)
    if change is None:
        return "no_stage_change"
    before, after = change
    lead_id = lead_id_of(new)
    key = f"stage#{lead_id}#{after}"
    if not notifier.log.claim(key):
        return "already_notified"
    referrer_id = new.get("referrer_id")
    try:
        notifier.publish(STAGE_EVENT, {
            "referral_id": lead_id, "referrer_id": referrer_id, "from_stage": before, "to_stage": after,
            "reason": new.get("not_eligible_reason") or None, "at": new.get("updated_at"),
        })
        referrer = notifier.referrers.get(str(referrer_id)) if referrer_id else None
        if referrer is None or not referrer.get("email"):
            return "event_only_unattributed"
        if referrer.get("notifications_opt_out"):
            return "event_only_opted_out"
        if referrer.get("status", "active") != "active":  # suspended, or erased (no address left)
            return "event_only_inactive"
        sent_this_hour, hour_ends = notifier.limit.count(str(referrer_id))
        if sent_this_hour > notifier.limit.max_per_hour(DEFAULT_MAX_STAGE_EMAILS_PER_HOUR):
            notifier.digests.add(str(referrer_id), digest_entry(new), due_at=hour_ends)
            return "queued_for_digest"
        notifier.send(stage_email(referrer, new, opt_out_url=notifier.opt_out_url(referrer)))
    except Exception:
        notifier.log.release(key)
        raise
    return "sent"


def _may_email(referrer: Mapping[str, Any]) -> bool:
    """An address to write to, not opted out, and active (suspended or erased: no email, no address)."""
    return bool(referrer.get("email")) and not referrer.get("notifications_opt_out") and (
        referrer.get("status", "active") == "active")


#: A claim on digest entries older than this is a run that died after sending (or before): given up.
STALE_CLAIM = timedelta(hours=1)


def send_due_digests(digests: DigestQueue, referrers: ReferrerRepository, send: Callable[[Email], Any], *,
                     opt_out_url: Callable[[Mapping[str, Any]], str], at: str | None = None) -> dict[str, int]:
    """Send each referrer's digest that is due (the hour it collects ended): one email for all its
    entries, then delete them. Entries are claimed (conditional, all or none) before sending and given
    back if sending fails, so two runs never send the same entry and a failure only delays it. Opted-out,
    suspended, erased or unknown referrers: the entries are dropped (their events went out when the stages
    changed)."""
    at = at or iso()
    counts = {"sent": 0, "dropped": 0, "failed": 0}
    for head in digests.due(at):
        referrer_id = str(head["referrer_id"])
        entries = digests.entries(referrer_id)
        stale = iso(parse_iso(at) - STALE_CLAIM)
        fresh = [e for e in entries if not e.get("digest_id")]
        done = [e for e in entries if e.get("digest_id") and str(e.get("claimed_at", "")) < stale]
        referrer = referrers.get(referrer_id)
        if fresh and referrer and _may_email(referrer):
            if not digests.claim(fresh, ids.new_id(), at=at):
                continue  # another run has them
            try:
                send(digest_email(referrer, fresh, opt_out_url=opt_out_url(referrer)))
            except Exception:
                digests.unclaim(fresh)
                counts["failed"] += 1
                continue
            counts["sent"] += 1
        elif fresh:
            counts["dropped"] += 1
        digests.finish(referrer_id, fresh + done)
    return counts
