"""The signed-in referrer's yearly statements: the years, and each year as CSV or a printable PDF.
Only the session's own referrer: there is no referrer id in these paths."""

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import referrer_id, settings, signed_in

from referral_core import deps
from referral_core.clock import now
from referral_core.models.statements import StatementYears
from referral_core.observability import tracer
from referral_core.services import statements
from referral_core.statement_http import CSV_ANSWER, PDF_ANSWER, Year, file_answer

router = APIGatewayHttpRouter()


@router.get("/me/statements")
@tracer.capture_method
def get_statements() -> StatementYears:
    signed_in(router)
    repos = statements.StatementRepos.on(deps.table())
    return statements.statement_years(repos.ledger, referrer_id(router), statements.statement_rules(repos),
                                      currency=settings().currency, today=now(), path_prefix="/me/statements")


# No return annotations on the file routes (referral_core.statement_http says why).
@router.get("/me/statements/<year>/statement.csv", responses=CSV_ANSWER)
@tracer.capture_method
def get_statement_csv(year: Year):  # type: ignore[no-untyped-def]
    return file_answer(statements.statement_file(statements.StatementRepos.on(deps.table()), signed_in(router),
                                                 year, "csv", currency=settings().currency, today=now()))


@router.get("/me/statements/<year>/statement.pdf", responses=PDF_ANSWER)
@tracer.capture_method
def get_statement_pdf(year: Year):  # type: ignore[no-untyped-def]
    return file_answer(statements.statement_file(statements.StatementRepos.on(deps.table()), signed_in(router),
                                                 year, "pdf", currency=settings().currency, today=now()))
