"""Staff report routes: the referral funnel per code and placement."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from referral_core import deps
from referral_core.dal.reports import StatsRepository
from referral_core.http import json_answer, json_response
from referral_core.models.reports import FunnelReport
from referral_core.services.reports import funnel

router = Router()


@router.get("/admin/reports/funnel",
            responses={200: json_answer(FunnelReport, "Counters and conversions per code and placement")})
def get_funnel(
    code: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response[str]:
    report = funnel(StatsRepository(deps.table()), code=code, limit=limit, cursor=cursor)
    return json_response(200, report.model_dump(mode="json"))
