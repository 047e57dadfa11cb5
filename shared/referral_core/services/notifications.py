"""What referrers are told, and the once-only sending of it.

Delivery is at-most-once per notification key: a marker is claimed with a conditional write before
sending and given back if SES fails, so replays and retries never send twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from referral_core.dal.mail import Email
from referral_core.dal.notifications import NotificationLog
from referral_core.pages import esc

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
