"""ISO-8601 durations with weeks, days, hours, minutes and seconds, a decimal fraction on the last
part (API.md "Conventions"); years and months, zero, negative and malformed values refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

from apps.api.durations import MALFORMED, PATTERN, IsoDurationField, format_duration, parse_duration


class _Input(serializers.Serializer):
    valid_for = IsoDurationField(minimum=timedelta(seconds=1), maximum=timedelta(days=90))


class _DefaultInput(serializers.Serializer):
    expires_in = IsoDurationField(
        minimum=timedelta(seconds=30), maximum=timedelta(hours=1), default=timedelta(minutes=10)
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P30D", timedelta(days=30)),
        ("PT10M", timedelta(minutes=10)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT1S", timedelta(seconds=1)),
        ("PT36H", timedelta(hours=36)),
        ("P1DT2H3M4S", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("PT90M", timedelta(minutes=90)),
        ("P0DT1H", timedelta(hours=1)),
        ("P3650D", timedelta(days=3650)),
        ("P4W", timedelta(weeks=4)),
        ("P1W3D", timedelta(days=10)),
        ("P2WT12H", timedelta(days=14, hours=12)),
        ("PT0.5H", timedelta(minutes=30)),
        ("PT0,25H", timedelta(minutes=15)),  # ISO's comma decimal sign
        ("P1.5D", timedelta(days=1, hours=12)),
        ("P0.5W", timedelta(days=3, hours=12)),
        ("P2DT1.25M", timedelta(days=2, seconds=75)),
        ("PT1.5S", timedelta(seconds=1, microseconds=500_000)),
        ("PT0.000001S", timedelta(microseconds=1)),
        ("P01D", timedelta(days=1)),
    ],
)
def test_it_parses_weeks_days_hours_minutes_and_seconds(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "P1Y",
        "P1M",
        "P1Y2M",
        "P1MT1H",
        "P0.5Y",
        "P0D",
        "P0W",
        "PT0.0S",
        "PT0.0000004S",  # rounds to zero at microsecond precision
        "PT0S",
        "PT0H0M0S",
        "-P1D",
        "+P1D",
        "P-1D",
        "",
        "P",
        "PT",
        "P1DT",
        "30",
        "30D",
        "1 day",
        "p30d",
        "P1.5DT1H",  # a fraction on a part that is not the last
        "P1,5W2D",
        "PT1.5H30M",
        "PT.5H",
        "PT1.H",
        "PT1.5.5H",
        "P1D1W",  # out of ISO order
        "PT1H1D",
        "P1D2H",
        "PT1S1M",
        " P30D",
        "P30D ",
        "P30D\n",
        "P\u0663D",  # ARABIC-INDIC DIGIT THREE: \d matches it, ISO-8601 does not
        "P99999999999D",
        "PT99999999999999999999S",
        "P2000000000W",
        "P" + "1" * 70 + "D",
    ],
)
def test_it_refuses_anything_else(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("value", [None, 30, 1.5, ["P1D"], {"days": 1}])
def test_it_refuses_non_strings(value):
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(days=30), "P30D"),
        (timedelta(minutes=10), "PT10M"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(seconds=1), "PT1S"),
        (timedelta(hours=36), "P1DT12H"),
        (timedelta(days=2, seconds=5), "P2DT5S"),
    ],
)
def test_it_formats_the_shortest_form(duration, text):
    assert format_duration(duration) == text


@given(st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=100_000)))
def test_it_round_trips_every_whole_second_duration(duration):
    duration = timedelta(seconds=int(duration.total_seconds()))

    assert parse_duration(format_duration(duration)) == duration


@given(st.integers(0, 10_000), st.integers(0, 1_000), st.integers(0, 1_000), st.integers(0, 100_000))
def test_it_parses_whatever_it_formats_back_to_the_same_text(days, hours, minutes, seconds):
    text = "P" + (f"{days}D" if days else "")
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text += f"T{time}" if time else ""
    expected = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)

    if expected == timedelta(0):
        with pytest.raises(ValueError):
            parse_duration(text)
    else:
        parsed = parse_duration(text)
        assert parsed == expected
        assert parse_duration(format_duration(parsed)) == parsed


@given(st.text(max_size=40))
def test_it_only_ever_raises_value_error(text):
    """Bad input is a 400, never a 500: nothing but ValueError escapes."""
    try:
        parsed = parse_duration(text)
    except ValueError:
        return
    assert parsed > timedelta(0)
    assert text.isascii()


# --- IsoDurationField ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [("PT1S", timedelta(seconds=1)), ("P90D", timedelta(days=90))])
def test_it_accepts_the_bounds(text, expected):
    serializer = _Input(data={"valid_for": text})

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["valid_for"] == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("P91D", "too_long"),
        ("P90DT1S", "too_long"),
        ("P1Y", "invalid"),
        ("P0D", "invalid"),
        ("-P1D", "invalid"),
        ("", "invalid"),
        ("P99999999999D", "invalid"),
    ],
)
def test_it_names_the_field_when_out_of_bounds_or_malformed(text, code):
    serializer = _Input(data={"valid_for": text})

    assert not serializer.is_valid()
    assert list(serializer.errors) == ["valid_for"]
    assert serializer.errors["valid_for"][0].code == code


def test_it_refuses_below_the_minimum():
    serializer = _DefaultInput(data={"expires_in": "PT29S"})

    assert not serializer.is_valid()
    assert serializer.errors["expires_in"][0].code == "too_short"
    assert "PT30S" in str(serializer.errors["expires_in"][0])


def test_it_says_the_maximum_in_the_message():
    serializer = _DefaultInput(data={"expires_in": "PT2H"})

    assert not serializer.is_valid()
    assert "PT1H" in str(serializer.errors["expires_in"][0])


def test_it_explains_a_malformed_duration():
    serializer = _Input(data={"valid_for": "P1M"})

    assert not serializer.is_valid()
    assert "P30D" in str(serializer.errors["valid_for"][0])


@pytest.mark.parametrize("value", [30, None, ["P1D"]])
def test_it_refuses_non_string_input(value):
    serializer = _Input(data={"valid_for": value})

    assert not serializer.is_valid()
    assert list(serializer.errors) == ["valid_for"]


def test_it_uses_the_default_when_absent():
    serializer = _DefaultInput(data={})

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["expires_in"] == timedelta(minutes=10)


def test_it_renders_durations_in_iso_form():
    assert _Input({"valid_for": timedelta(days=1, hours=2)}).data == {"valid_for": "P1DT2H"}


# --- Why a duration is refused ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["P2Y", "P3M", "P1Y6M", "P1MT12H", "P0.5Y"])
def test_years_and_months_are_refused_because_their_length_depends_on_the_calendar(text):
    with pytest.raises(ValueError, match="length depends on the calendar"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["-P2W", "-PT0.5H", "-P1DT1H"])
def test_negative_durations_are_refused_saying_so(text):
    with pytest.raises(ValueError, match="cannot be negative"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P0W", "PT0.0H", "P0DT0H0M0S", "PT0,0S"])
def test_zero_durations_are_refused_saying_so(text):
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P0.5WT1H", "PT1,5H10M", "P2.25DT3S"])
def test_a_fraction_is_allowed_on_the_last_part_only(text):
    with pytest.raises(ValueError, match="Only the last part"):
        parse_duration(text)


# --- Properties -------------------------------------------------------------------------------

_COMPONENT_SECONDS = (("W", 7 * 86400), ("D", 86400), ("H", 3600), ("M", 60), ("S", 1))


@given(
    st.lists(st.integers(0, 500), min_size=5, max_size=5),
    st.integers(0, 4),
    st.integers(0, 999),
    st.sampled_from([".", ","]),
)
def test_a_decimal_fraction_on_the_last_part_counts_exactly(numbers, last, fraction, sign):
    """Property: any ISO-ordered combination whose last part has a fraction (either decimal
    sign) parses to exactly the sum of its parts, to the microsecond."""
    used = list(zip(_COMPONENT_SECONDS[: last + 1], numbers[: last + 1], strict=True))
    date = "".join(f"{n}{letter}" for (letter, _), n in used[:2])
    time = "".join(f"{n}{letter}" for (letter, _), n in used[2:])
    text = "P" + date + (f"T{time}" if time else "")
    text = text[:-1] + f"{sign}{fraction:03d}" + text[-1]
    unit = used[-1][0][1]
    expected = sum(n * seconds for (_, seconds), n in used) + fraction * unit / 1000
    expected = timedelta(microseconds=round(expected * 1_000_000))

    if expected == timedelta(0):
        with pytest.raises(ValueError):
            parse_duration(text)
    else:
        assert parse_duration(text) == expected


@given(st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=100_000)))
def test_it_round_trips_every_duration_to_the_microsecond(duration):
    assert parse_duration(format_duration(duration)) == duration


@given(st.from_regex(PATTERN, fullmatch=True))
def test_whatever_the_schema_pattern_allows_is_parsed_or_refused_with_a_reason(text):
    """The OpenAPI pattern states the syntax; what it lets through either parses or is refused
    for a rule the description states (zero, too long, a fraction before the last part)."""
    try:
        parsed = parse_duration(text)
    except ValueError as exc:
        assert str(exc) != MALFORMED or len(text) > 64 or text.endswith("\n"), text
    else:
        assert parsed > timedelta(0)


@given(st.text(max_size=40))
def test_it_parses_only_what_the_schema_pattern_allows(text):
    try:
        parse_duration(text)
    except ValueError:
        return
    assert re.fullmatch(PATTERN.removeprefix("^").removesuffix("$"), text)


# --- Every API field that takes a duration ----------------------------------------------------


def _api_serializer_fields():
    import importlib
    import pkgutil

    import apps

    for module_info in pkgutil.iter_modules(apps.__path__):
        try:
            module = importlib.import_module(f"apps.{module_info.name}.api.serializers")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, serializers.Serializer)
                and value.__module__ == module.__name__
            ):
                for name, field in value._declared_fields.items():
                    yield f"{value.__name__}.{name}", field


def test_every_api_field_that_takes_a_duration_uses_the_one_parser():
    durations = {
        where: field
        for where, field in _api_serializer_fields()
        if isinstance(field, (IsoDurationField, serializers.DurationField))
        or where.rsplit(".", 1)[1] in ("valid_for", "sharing_period", "expires_in")
    }

    assert {where for where in durations} >= {
        "ActivityCreateSerializer.valid_for",
        "ActivityCreateSerializer.sharing_period",
        "ActivityAcceptSerializer.sharing_period",
        "IdentificationCreateSerializer.expires_in",
        "SessionCreateSerializer.expires_in",
    }
    for where, field in durations.items():
        assert type(field) is IsoDurationField, where


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "field", "text", "expected"),
    [
        ("sessions", "expires_in", "PT0.25H", timedelta(minutes=15)),
        ("sessions", "expires_in", "PT1,5M", timedelta(seconds=90)),
        ("identifications/otp", "expires_in", "P2W", timedelta(weeks=2)),
        ("identifications/otp", "expires_in", "P1.5D", timedelta(hours=36)),
    ],
)
def test_durations_with_weeks_and_fractions_set_the_deadline(api, path, field, text, expected):
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    from tests.identifications.conftest import body

    payload = {"scopes": ["email"]} if path == "sessions" else body()
    before = timezone.now()
    response = api.post(f"/api/v1/orgs/acme/{path}", {**payload, field: text}, format="json")

    assert response.status_code == 201, response.json()
    expires_at = parse_datetime(response.json()["expires_at"])
    assert before + expected - timedelta(seconds=1) <= expires_at <= timezone.now() + expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "field", "text", "says"),
    [
        ("sessions", "expires_in", "P1M", "length depends on the calendar"),
        ("sessions", "expires_in", "-PT5M", "cannot be negative"),
        ("sessions", "expires_in", "PT0.0M", "longer than zero"),
        ("sessions", "expires_in", "PT1.5M30S", "Only the last part"),
        ("identifications/otp", "expires_in", "P1Y", "length depends on the calendar"),
        ("identifications/otp", "expires_in", "ten days", "ISO-8601 duration"),
        ("activities", "valid_for", "P3M", "length depends on the calendar"),
        ("activities", "valid_for", "P0W", "longer than zero"),
    ],
)
def test_a_refused_duration_answers_400_naming_the_field_and_saying_why(api, path, field, text, says):
    from tests.identifications.conftest import body

    payload = {"scopes": ["email"]} if path == "sessions" else body() if path.startswith("ident") else {}
    response = api.post(f"/api/v1/orgs/acme/{path}", {**payload, field: text}, format="json")

    assert response.status_code == 400
    errors = [e for e in response.json()["errors"] if e.get("field") == field]
    assert len(errors) == 1, response.json()
    assert says in errors[0]["message"]
