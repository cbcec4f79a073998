"""The forms the pages post, as typed models (FastAPI reads them with `Form()`); a value
that does not fit is answered 400 with the field's sentence (main.py's handler)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from pydantic import BaseModel, BeforeValidator, Field


def _blank_is_none(value):
    return None if isinstance(value, str) and not value.strip() else value


#: a time in a call: finite, not negative (the call's length is checked in service.add_finding)
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False, description="seconds, e.g. 41.5")]


class LoginForm(BaseModel):
    name: str = ""
    password: str = ""
    next: str = "/"
    csrf: str = ""


class VerdictForm(BaseModel):
    finding_id: str = ""
    verdict: str = ""
    note: str = ""


class AddFindingForm(BaseModel):
    category: str = ""
    severity: str = "major"
    start_s: Annotated[Seconds | None, BeforeValidator(_blank_is_none)] = None
    end_s: Annotated[Seconds | None, BeforeValidator(_blank_is_none)] = None
    note: str = ""


class AppealForm(BaseModel):
    finding_id: str = ""
    reason: str = ""


class NearMissForm(BaseModel):
    finding_id: str = ""


class DecisionForm(BaseModel):
    decision: str = ""
    note: str = ""


class GradesForm(BaseModel):
    #: item_id -> grade, from the fields `grade-<item_id>` with a value
    grades: dict[str, str]


async def grades_form(request: Request) -> GradesForm:
    """The grades form has one field per manual item of the call: `grade-<item_id>`."""
    form = await request.form()
    return GradesForm(grades={k[len("grade-"):]: str(v) for k, v in form.items() if k.startswith("grade-") and v})


Login = Annotated[LoginForm, Form()]
Verdict = Annotated[VerdictForm, Form()]
AddFinding = Annotated[AddFindingForm, Form()]
Appeal = Annotated[AppealForm, Form()]
Decision = Annotated[DecisionForm, Form()]
NearMissFinding = Annotated[NearMissForm, Form()]
