"""Validation and normalisation of people's contact details (email-validator, phonenumbers)."""

from __future__ import annotations

from referral_core.errors import InvalidInput


def clean_email(value: str, field: str = "email") -> str:
    # Imported on first use: its module compiles the RFC grammar into regexes (~30 ms of cold start), and
    # most requests of a function that can handle an email (staff admin, the portal) never do.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{field} is not a valid email address", fields={field: str(exc)}) from None


def clean_phone(value: str, region: str, field: str = "phone") -> str:
    """Return the number in E.164 (``+61412345678``); numbers without a country code use ``region``."""
    import phonenumbers  # heavy metadata; imported only where phones are handled

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{field} is not a phone number", fields={field: "not a phone number"}) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{field} is not a valid phone number",
                           fields={field: f"not a valid number for region {region}"})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_name(name: str) -> str:
    """``"Joanne Smith"`` -> ``"Jo S."``: enough for a referrer to recognise a friend, no more."""
    parts = name.split()
    if not parts:
        return "?"
    first = parts[0][:2]
    last = f" {parts[-1][0].upper()}." if len(parts) > 1 else ""
    return f"{first}{last}"
