"""ISO-8601 durations, parsed in one place: days, hours, minutes and seconds only."""

from __future__ import annotations

import re
from datetime import timedelta

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$",
    re.ASCII,  # \d would otherwise accept any Unicode digit
)


def parse_duration(value: str) -> timedelta:
    """`P30D`, `PT10M`, `P1DT2H` → timedelta. Years, months, weeks, zero, signs → ValueError."""
    # fullmatch: `$` alone would let a trailing newline through.
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if not match or value in ("P", "PT"):
        raise ValueError("Use an ISO-8601 duration with days, hours, minutes or seconds, such as P30D or PT10M.")
    parts = {name: int(number) for name, number in match.groupdict().items() if number is not None}
    if not parts:
        raise ValueError("Use an ISO-8601 duration with days, hours, minutes or seconds, such as P30D or PT10M.")
    try:
        duration = timedelta(**parts)
    except OverflowError:
        raise ValueError("The duration is too long.") from None
    if duration <= timedelta(0):
        raise ValueError("The duration must be longer than zero.")
    return duration


def format_duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


@extend_schema_field({"type": "string", "pattern": _DURATION.pattern, "example": "P30D"})
class IsoDurationField(serializers.Field):
    """A duration in ISO-8601 form within [minimum, maximum]."""

    default_error_messages = {
        "invalid": "{reason}",
        "too_short": "The duration must be at least {minimum}.",
        "too_long": "The duration must be at most {maximum}.",
    }

    def __init__(self, *, minimum: timedelta, maximum: timedelta, **kwargs: object) -> None:
        self.minimum = minimum
        self.maximum = maximum
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> timedelta:
        try:
            duration = parse_duration(data)  # type: ignore[arg-type]
        except ValueError as exc:
            self.fail("invalid", reason=str(exc))
        if duration < self.minimum:
            self.fail("too_short", minimum=format_duration(self.minimum))
        if duration > self.maximum:
            self.fail("too_long", maximum=format_duration(self.maximum))
        return duration

    def to_representation(self, value: timedelta) -> str:
        return format_duration(value)
