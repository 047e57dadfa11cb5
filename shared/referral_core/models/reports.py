"""API models of the staff funnel report (``GET /admin/reports/funnel``)."""

from pydantic import Field

from referral_core.models.base import Model


class FunnelCounts(Model):
    clicks: int = Field(description="clicks_link + clicks_qr")
    clicks_link: int
    clicks_qr: int
    leads: int
    jobs: int
    paid: int
    rewarded: int


class FunnelConversion(Model):
    """Each step's rate, to 4 decimals; null when the step before counted nothing."""

    clicks_to_leads: float | None = Field(examples=[0.25])
    leads_to_jobs: float | None
    jobs_to_paid: float | None
    paid_to_rewarded: float | None


class FunnelRow(FunnelCounts):
    """One code and placement."""

    code: str
    placement: str | None = Field(description="Where the code was shared; `-` (or null) for none")
    conversion: FunnelConversion


class FunnelReport(Model):
    code: str | None = Field(description="The code asked for (its placements, with totals); null: every code")
    rows: list[FunnelRow]
    totals: FunnelCounts = Field(description="Sums of the rows of this page")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; always null for one code")
