"""ISO-8601 durations with days, hours, minutes and seconds only (API.md "Conventions")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

from apps.api.durations import IsoDurationField, format_duration, parse_duration


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
    ],
)
def test_it_parses_days_hours_minutes_and_seconds(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "P1Y",
        "P1M",
        "P1W",
        "P1Y2M",
        "P1MT1H",
        "P0D",
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
        "P1.5D",
        "PT0.5S",
        "PT1H1D",
        "P1D2H",
        "PT1S1M",
        " P30D",
        "P30D ",
        "P30D\n",
        "P\u0663D",  # ARABIC-INDIC DIGIT THREE: \d matches it, ISO-8601 does not
        "P99999999999D",
        "PT99999999999999999999S",
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
