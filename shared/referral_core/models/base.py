"""The base of every API model."""

from __future__ import annotations

import re

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

#: The highest ``version``/``expected_version`` a request may send: versions count saved changes, so 10^9
#: is far beyond any record's, and keeps every number well inside DynamoDB's 38 digits.
MAX_VERSION = 1_000_000_000


class Model(BaseModel):
    """A pydantic model whose validator and schema are built on first use, not when its module loads.

    A function imports the models of all its routes but one request uses one or two of them: building the
    rest would add their build to every cold start (see bench/RESULTS.md). Subclasses add their own
    ``model_config`` (pydantic merges it with this one).
    """

    model_config = ConfigDict(defer_build=True)


# Control characters (C0, DEL, C1) are refused, not stripped: a NUL or an escape sequence in a name is a
# sign of a tool or an attack, and silently changing what was sent would hide it. Multi-line text (an
# issue, a note) may hold line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (NUL, line breaks, tabs...)")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL_BUT_LINES.search(value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


def _exactly_true(value: object) -> object:
    if value is not True:  # not 1, "true" or "on": consent is the JSON value true
        raise ValueError("must be true (the JSON value true)")
    return value


#: Text on one line (names, postcodes, references): ``Annotated[str, StringConstraints(...), OneLine]``.
OneLine = AfterValidator(_one_line)
#: Text that may span lines (an issue, a note): line breaks (CR, LF) and tabs allowed, other controls not.
MultiLine = AfterValidator(_multi_line)
#: For ``Literal[True]`` fields (consent): only a JSON ``true``, never a number or a string that pydantic's
#: lax mode would coerce.
ExactlyTrue = BeforeValidator(_exactly_true)
