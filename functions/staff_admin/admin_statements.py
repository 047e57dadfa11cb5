"""Staff routes for any referrer's yearly statement (CSV or printable PDF), as the referrer sees it."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from staff_context import settings

from referral_core import deps
from referral_core.clock import now
from referral_core.observability import tracer
from referral_core.services import statements
from referral_core.statement_http import CSV_ANSWER, PDF_ANSWER, Year, file_answer

router = Router()

ReferrerId = Annotated[str, Path(max_length=64)]


def _file(referrer_id: str, year: str, file_format: str) -> statements.StatementFile:
    repos = statements.StatementRepos.on(deps.table())
    return statements.statement_file(repos, statements.known_referrer(repos, referrer_id), year, file_format,
                                     currency=settings().currency, today=now())


# No return annotations on the file routes (referral_core.statement_http says why).
@router.get("/admin/referrers/<referrer_id>/statements/<year>/statement.csv", responses=CSV_ANSWER)
@tracer.capture_method
def get_statement_csv(referrer_id: ReferrerId, year: Year):  # type: ignore[no-untyped-def]
    return file_answer(_file(referrer_id, year, "csv"))


@router.get("/admin/referrers/<referrer_id>/statements/<year>/statement.pdf", responses=PDF_ANSWER)
@tracer.capture_method
def get_statement_pdf(referrer_id: ReferrerId, year: Year):  # type: ignore[no-untyped-def]
    return file_answer(_file(referrer_id, year, "pdf"))
