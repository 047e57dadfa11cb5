"""Staff export routes: the accountant's monthly CSVs (referrals, rewards, payouts)."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from staff_context import settings

from referral_core import deps
from referral_core.clock import now
from referral_core.dal.exports import ExportRepository
from referral_core.services.exports import build_export

router = Router()


@router.get("/admin/exports/<kind>.csv",
            responses={200: {"description": "CSV (text/csv), one row per record",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}})
def get_export(
    kind: Annotated[Literal["referrals", "rewards", "payouts"], Path()],
    start: Annotated[str | None, Query(alias="from", max_length=7, description="first month, yyyy-mm")] = None,
    end: Annotated[str | None, Query(alias="to", max_length=7, description="last month, yyyy-mm")] = None,
) -> Response[str]:
    export = build_export(ExportRepository(deps.table()), kind, start=start, end=end, today=now().date(),
                          currency=settings().currency)
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=export.body,
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"',
                             "Cache-Control": "no-store"})
