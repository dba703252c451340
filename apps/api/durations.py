"""ISO-8601 durations, parsed in one place (API.md "Conventions").

Weeks, days, hours, minutes and seconds, in ISO order (`P4W`, `P30D`, `PT10M`, `P1DT2H`,
`P1W2D`), the last part with a decimal fraction if wanted (`PT0.5H`, `P1.5D`, `PT1,5S`: ISO
allows a comma as the decimal sign, so both are read). Years and months are refused because
their length depends on the calendar; so are zero, negative and malformed values. Every API
field that takes a duration is an IsoDurationField, which names itself in the 400.
"""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

_NUMBER = r"[0-9]+(?:[.,][0-9]+)?"  # ASCII digits: \d would accept any Unicode digit
_PARTS = (("weeks", "W"), ("days", "D"))
_TIME_PARTS = (("hours", "H"), ("minutes", "M"), ("seconds", "S"))
# Everything ISO-8601 spells, years and months included, so that those get their own answer.
_ISO = re.compile(
    rf"(?P<sign>[-+])?P(?:(?P<years>{_NUMBER})Y)?(?:(?P<months>{_NUMBER})M)?"
    + "".join(rf"(?:(?P<{name}>{_NUMBER}){letter})?" for name, letter in _PARTS)
    + r"(?P<time>T"
    + "".join(rf"(?:(?P<{name}>{_NUMBER}){letter})?" for name, letter in _TIME_PARTS)
    + ")?"
)
# The accepted syntax, as the OpenAPI schema states it (ECMA-262: no named groups).
PATTERN = (
    r"^P(?=[0-9T])"
    + "".join(rf"(?:{_NUMBER}{letter})?" for _, letter in _PARTS)
    + r"(?:T(?=[0-9])"
    + "".join(rf"(?:{_NUMBER}{letter})?" for _, letter in _TIME_PARTS)
    + r")?$"
)
_MICROSECONDS = {
    "weeks": 7 * 86_400_000_000,
    "days": 86_400_000_000,
    "hours": 3_600_000_000,
    "minutes": 60_000_000,
    "seconds": 1_000_000,
}
_MAX_LENGTH = 64  # far more than any real duration; keeps the arithmetic small

FORM = (
    "An ISO-8601 duration with weeks, days, hours, minutes and seconds, such as P4W, P30D, PT10M, "
    "P1DT2H or PT0.5H; only the last part may have a decimal fraction (with '.' or ','). Years and "
    "months are refused: their length depends on the calendar."
)
MALFORMED = "Use an ISO-8601 duration with weeks, days, hours, minutes or seconds, such as P4W, P30D, PT10M or PT0.5H."


def parse_duration(value: Any) -> timedelta:
    """`P4W`, `P1DT2H`, `PT0.5H` → timedelta. Anything else → ValueError saying why."""
    if not isinstance(value, str) or len(value) > _MAX_LENGTH:
        raise ValueError(MALFORMED)
    # fullmatch: `$` alone would let a trailing newline through.
    match = _ISO.fullmatch(value)
    if match is None:
        raise ValueError(MALFORMED)
    groups = match.groupdict()
    parts = [(name, groups[name]) for name, _ in (*_PARTS, *_TIME_PARTS) if groups[name] is not None]
    time_parts = [name for name, _ in _TIME_PARTS if groups[name] is not None]
    if groups["years"] is not None or groups["months"] is not None:
        raise ValueError(
            "Years and months are not accepted: their length depends on the calendar. "
            "Use weeks or days, such as P4W or P30D."
        )
    if not parts or (groups["time"] is not None and not time_parts) or groups["sign"] == "+":
        raise ValueError(MALFORMED)
    if groups["sign"] == "-":
        raise ValueError("A duration cannot be negative.")
    if any(re.search("[.,]", number) for _, number in parts[:-1]):
        raise ValueError("Only the last part of a duration may have a decimal fraction, such as PT1.5H.")
    total = sum(Fraction(number.replace(",", ".")) * _MICROSECONDS[name] for name, number in parts)
    try:
        duration = timedelta(microseconds=round(total))
    except OverflowError:
        raise ValueError("The duration is too long.") from None
    if duration <= timedelta(0):
        raise ValueError("The duration must be longer than zero.")
    return duration


def format_duration(duration: timedelta) -> str:
    """The shortest ISO-8601 form in days, hours, minutes and seconds: P1DT12H, PT1.5S."""
    days, rest = duration.days, duration.seconds
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    second_text = f"{seconds}.{duration.microseconds:06d}".rstrip("0") if duration.microseconds else str(seconds)
    parts = ((hours, f"{hours}H"), (minutes, f"{minutes}M"), (seconds or duration.microseconds, f"{second_text}S"))
    time = "".join(text for n, text in parts if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


class IsoDurationField(serializers.Field):
    """A duration in ISO-8601 form within [minimum, maximum]; the schema states the form and bounds."""

    default_error_messages = {
        "invalid": "{reason}",
        "too_short": "The duration must be at least {minimum}.",
        "too_long": "The duration must be at most {maximum}.",
    }

    def __init__(self, *, minimum: timedelta, maximum: timedelta, **kwargs: Any) -> None:
        self.minimum = minimum
        self.maximum = maximum
        bounds = f"From {format_duration(minimum)} to {format_duration(maximum)}"
        default = kwargs.get("default")
        if isinstance(default, timedelta):
            bounds += f"; {format_duration(default)} when absent"
        kwargs["help_text"] = " ".join(filter(None, [kwargs.get("help_text") or f"{bounds}.", FORM]))
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> timedelta:
        try:
            duration = parse_duration(data)
        except ValueError as exc:
            self.fail("invalid", reason=str(exc))
        if duration < self.minimum:
            self.fail("too_short", minimum=format_duration(self.minimum))
        if duration > self.maximum:
            self.fail("too_long", maximum=format_duration(self.maximum))
        return duration

    def to_representation(self, value: timedelta) -> str:
        return format_duration(value)


class IsoDurationFieldSchema(OpenApiSerializerFieldExtension):
    """drf-spectacular: the syntax as a pattern (the help text states the bounds and the rules a
    pattern cannot), with an example inside the field's own bounds."""

    target_class = IsoDurationField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field = self.target
        example = field.default if isinstance(field.default, timedelta) else field.maximum
        return {"type": "string", "pattern": PATTERN, "example": format_duration(example)}
