"""The peers' models for P5: the generated ``EventDraft``'s rules, in pydantic and msgspec.

No ``from __future__ import annotations`` here: both libraries read the annotations at
class creation.
"""

from datetime import datetime
from typing import Annotated

import msgspec
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MsgspecEvent", "PydanticEvent"]


class PydanticEvent(BaseModel):
    """Same rules as the generated draft: unknown keys are errors, title <= 200 chars."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    title: Annotated[str, Field(max_length=200)]
    amount: float
    due_at: datetime
    done: bool = False


class MsgspecEvent(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Same rules as the generated draft, as a msgspec struct."""

    id: int
    title: Annotated[str, msgspec.Meta(max_length=200)]
    amount: float
    due_at: datetime
    done: bool = False
