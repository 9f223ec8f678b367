"""Validation error records in the pydantic/FastAPI vocabulary (docs/validation-errors.md)."""

from __future__ import annotations

from typing import Any

#: Where an error is: source, name, then member names / list indexes.
Loc = tuple[str | int, ...]


def _plural(count: Any, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


_MESSAGES: dict[str, str] = {
    "missing": "Field required",
    "int_parsing": "Input should be a valid integer, unable to parse string as an integer",
    "int_type": "Input should be a valid integer",
    "int_from_float": "Input should be a valid integer, got a number with a fractional part",
    "float_parsing": "Input should be a valid number, unable to parse string as a number",
    "float_type": "Input should be a valid number",
    "finite_number": "Input should be a finite number",
    "bool_parsing": "Input should be a valid boolean, unable to interpret input",
    "bool_type": "Input should be a valid boolean",
    "string_type": "Input should be a valid string",
    "uuid_parsing": "Input should be a valid UUID",
    "uuid_type": "UUID input should be a string",
    "date_parsing": "Input should be a valid date in the format YYYY-MM-DD",
    "date_type": "Input should be a valid date",
    "datetime_parsing": "Input should be a valid datetime",
    "datetime_type": "Input should be a valid datetime",
    "time_parsing": "Input should be in a valid time format",
    "time_type": "Input should be a valid time",
    "time_delta_parsing": "Input should be a valid timedelta",
    "time_delta_type": "Input should be a valid timedelta",
    "decimal_parsing": "Input should be a valid decimal",
    "decimal_type": "Decimal input should be an integer, float, string or Decimal object",
    "string_pattern_mismatch": "String should match pattern '{pattern}'",
    "greater_than": "Input should be greater than {gt}",
    "greater_than_equal": "Input should be greater than or equal to {ge}",
    "less_than": "Input should be less than {lt}",
    "less_than_equal": "Input should be less than or equal to {le}",
    "multiple_of": "Input should be a multiple of {multiple_of}",
    "literal_error": "Input should be {expected}",
    "enum": "Input should be {expected}",
    "list_type": "Input should be a valid list",
    "tuple_type": "Input should be a valid tuple",
    "set_type": "Input should be a valid set",
    "dict_type": "Input should be a valid dictionary",
    "model_attributes_type": "Input should be a valid dictionary or object to extract fields from",
    "extra_forbidden": "Extra inputs are not permitted",
    "none_required": "Input should be None",
    "bytes_type": "Input should be a valid bytes",
    "json_invalid": "JSON decode error",
    "multipart_invalid": "Invalid multipart body",
    "value_error": "Value error, {error}",
}


def message(error_type: str, ctx: dict[str, Any] | None) -> str:
    ctx = ctx or {}
    if error_type == "string_too_short":
        return f"String should have at least {_plural(ctx.get('min_length'), 'character')}"
    if error_type == "string_too_long":
        return f"String should have at most {_plural(ctx.get('max_length'), 'character')}"
    if error_type in ("too_short", "too_long"):
        bound = ctx.get("min_length") if error_type == "too_short" else ctx.get("max_length")
        side = "at least" if error_type == "too_short" else "at most"
        actual = ctx.get("actual_length")
        return f"List should have {side} {_plural(bound, 'item')} after validation, not {actual}"
    template = _MESSAGES.get(error_type, "Invalid input")
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template


def make_error(
    error_type: str, loc: Loc, input_value: Any, ctx: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One error record: ``{"type", "loc", "msg", "input"}`` plus ``ctx`` when it has any."""
    error: dict[str, Any] = {
        "type": error_type,
        "loc": list(loc),
        "msg": message(error_type, ctx),
        "input": input_value,
    }
    if ctx:
        error["ctx"] = ctx
    return error


def literal_expected(choices: tuple[Any, ...]) -> str:
    """pydantic's spelling of the allowed values: ``'a', 'b' or 'c'``."""
    shown = [repr(choice) if isinstance(choice, str) else str(choice) for choice in choices]
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} or {shown[-1]}"
