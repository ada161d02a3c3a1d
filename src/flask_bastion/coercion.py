"""Setting values given as strings (environment variables), converted to their type strictly."""

from __future__ import annotations

import math
import types
from typing import Any, Union, get_args, get_origin

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def optional(kind: Any) -> Any | None:
    """``X`` for a ``X | None`` type, else None."""
    if get_origin(kind) in (Union, types.UnionType):
        (inner,) = [a for a in get_args(kind) if a is not type(None)]
        return inner
    return None


def describe(kind: Any) -> str:
    """What a value of this setting type must be, for refusals and the docs."""
    inner = optional(kind)
    if inner is not None:
        return f"{describe(inner)} or None"
    if get_origin(kind) in (tuple, frozenset):
        return "a list of strings or a comma-separated string"
    return {
        bool: "true or false (or yes/no, 1/0)",
        int: "an integer",
        float: "a number",
        str: "a string",
    }[kind]


def items(value: Any) -> tuple[str, ...]:
    """The entries of a list setting: a comma-separated string or a list, blanks dropped."""
    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, list | tuple | set | frozenset) or not all(
        isinstance(e, str) for e in entries
    ):
        raise ValueError
    return tuple(e.strip() for e in entries if e.strip())


def convert(value: Any, kind: Any) -> Any:
    """``value`` as a ``kind``; ValueError when it is not one.

    ``kind`` is a setting's type: ``str``, ``int``, ``float``, ``bool``, ``tuple[str, ...]``,
    ``frozenset[str]``, or one of them ``| None``.

    Strings are parsed: integers and numbers, booleans strictly (true/false, yes/no, 1/0 in any
    case), lists split on commas. A number is never taken as a boolean, nor a boolean as a
    number: ``True`` seconds is a mistake, not 1.
    """
    inner = optional(kind)
    if inner is not None:
        return None if value is None else convert(value, inner)
    if get_origin(kind) in (tuple, frozenset):
        return get_origin(kind)(items(value))
    if kind is bool:
        if isinstance(value, bool):
            return value
        word = value.strip().lower() if isinstance(value, str) else None
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        if isinstance(value, float) and kind is int:
            raise ValueError
        number = kind(value.strip() if isinstance(value, str) else value)
        if not math.isfinite(number):
            raise ValueError
        return number
    if kind is str and isinstance(value, str):
        return value
    raise ValueError
