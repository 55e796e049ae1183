"""Building pydantic models from values that are valid by construction, cheaply.

``model_construct`` skips validation but still costs several microseconds; the engine
builds a decision (and often a reason code) per household, so it fills the instance
slots directly, exactly as ``model_construct`` does when every field is given. Tests
check that such instances equal validated ones.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["trusted"]

_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__


def trusted(cls: type[_M], values: dict[str, Any]) -> _M:
    """An instance of ``cls`` holding ``values`` (every field, already valid)."""
    instance = cls.__new__(cls)
    _set(instance, "__dict__", values)
    _set(instance, "__pydantic_fields_set__", set(values))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance
