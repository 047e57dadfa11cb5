"""The HTTP side of yearly statements, shared by the portal's and the staff routes: the ``year`` path
parameter, the documented answers and the file answer. Like the flyers, the file routes declare no return
type (a non-JSON Response passes through; bytes -> base64 by Powertools); ``fpdf2`` is imported by the
drawing itself (``services.statements.statement_pdf``).

The format is a path segment of its own (``…/{year}/statement.csv``): API Gateway HTTP API routes take a
path variable only as a whole segment, so ``{year}.csv`` cannot be routed.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from referral_core.services.statements import StatementFile

Year = Annotated[str, Path(max_length=9, description="the financial year, e.g. 2025-26 (July 2025 to June 2026 "
                                                      "by default; 2025 when the programme's year is the "
                                                      "calendar year)")]
CSV_ANSWER = {200: {"description": "The statement (CSV): one row per ledger entry, then a total row",
                    "content": {"text/csv": {"schema": {"type": "string"}}}},
              422: {"description": "Not a financial year (field year)"}}
PDF_ANSWER = {200: {"description": "The statement (printable PDF)",
                    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
              422: {"description": "Not a financial year (field year)"}}


def file_answer(file: StatementFile) -> Response[str | bytes]:
    return Response(status_code=200, content_type=file.content_type, body=file.body,
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"',
                             "Cache-Control": "no-store"})
