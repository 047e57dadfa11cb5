"""What Quick Help (where a share link lands) shows besides its form: the business's branding, for the page
and its link preview, and "Recommended by Jo S." when the referrer switched that on (``PUT /me/preferences``).

Reads, per page: the branding (cached per container, ``services.branding``) and, only with a ``ref``, the
code and its referrer's profile. A code that is not live, or whose referrer is not active, names nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from referral_core.clock import iso
from referral_core.contacts import first_name_and_initial
from referral_core.dal.branding import BrandingRepository
from referral_core.dal.leads import LeadRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.errors import Unavailable
from referral_core.models.branding import BrandingData
from referral_core.services import branding
from referral_core.services.redirect import CODE_PATTERN, is_live, referrer_active


@dataclass(frozen=True, kw_only=True)
class Landing:
    brand: BrandingData
    recommended_by: str | None = None


def recommended_by(codes: LeadRepository, referrers: ReferrerRepository, ref: str | None) -> str | None:
    """The referrer's first name and initial, if ``ref`` is their live code and they chose to be named."""
    if not ref or not CODE_PATTERN.match(ref):
        return None
    item = codes.get_code(ref)
    if item is None or not is_live(item, iso()) or not referrer_active(item):
        return None
    profile = referrers.get(str(item["referrer_id"]))
    if not profile or profile.get("status", "active") != "active" or not profile.get("show_name_on_landing"):
        return None
    return first_name_and_initial(str(profile.get("name") or ""))


def landing(brands: BrandingRepository, codes: LeadRepository, referrers: ReferrerRepository,
            ref: str | None) -> Landing:
    """The page's extras. They only decorate the form: when the table is busy the form still shows, with the
    default branding and nobody named."""
    try:
        brand = branding.current_branding(brands)
    except Unavailable:
        brand = BrandingData()
    try:
        name = recommended_by(codes, referrers, ref)
    except Unavailable:
        name = None
    return Landing(brand=brand, recommended_by=name)
