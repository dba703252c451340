"""What an attempt's result means for a delivery (API.md "Webhooks": retries on a schedule, then dead).

The decision is a pure function of the attempt number, the status code, the kind of failure and
the time the attempt finished; these tests need no database and no clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.webhooks.models import DeliveryStatus
from apps.webhooks.retry import COUNTDOWN_LIMIT, MAX_ATTEMPTS, RETRY_DELAYS, Failure, NextStep, next_step

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PENDING, SUCCEEDED, DEAD = DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED, DeliveryStatus.DEAD


def test_the_published_schedule():
    assert list(RETRY_DELAYS) == [
        timedelta(0),
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    ]
    assert MAX_ATTEMPTS == 9


@pytest.mark.parametrize(
    ("attempt", "status_code", "failure", "expected"),
    [
        # answers that mean delivered
        (1, 200, Failure.NONE, NextStep(SUCCEEDED)),
        (1, 204, Failure.NONE, NextStep(SUCCEEDED)),
        (9, 299, Failure.NONE, NextStep(SUCCEEDED)),
        # retryable: server errors, 429, network errors; short delays go to a countdown
        (1, 500, Failure.NONE, NextStep(PENDING, NOW, timedelta(0))),
        (1, 503, Failure.NONE, NextStep(PENDING, NOW, timedelta(0))),
        (2, 429, Failure.NONE, NextStep(PENDING, NOW + timedelta(seconds=5), timedelta(seconds=5))),
        (2, None, Failure.NETWORK, NextStep(PENDING, NOW + timedelta(seconds=5), timedelta(seconds=5))),
        # long delays wait for the relay (no countdown)
        (3, 502, Failure.NONE, NextStep(PENDING, NOW + timedelta(minutes=5))),
        (4, None, Failure.NETWORK, NextStep(PENDING, NOW + timedelta(minutes=30))),
        (8, 500, Failure.NONE, NextStep(PENDING, NOW + timedelta(hours=10))),
        # the last attempt fails for good
        (9, 500, Failure.NONE, NextStep(DEAD)),
        (9, None, Failure.NETWORK, NextStep(DEAD)),
        # never worth another try: client errors, redirects, informational, a refused destination
        (1, 400, Failure.NONE, NextStep(DEAD)),
        (1, 404, Failure.NONE, NextStep(DEAD)),
        (1, 410, Failure.NONE, NextStep(DEAD)),
        (1, 301, Failure.NONE, NextStep(DEAD)),
        (1, 101, Failure.NONE, NextStep(DEAD)),
        (1, None, Failure.REFUSED, NextStep(DEAD)),
    ],
)
def test_next_step(attempt, status_code, failure, expected):
    assert next_step(attempt=attempt, status_code=status_code, failure=failure, now=NOW) == expected


def test_a_retry_with_a_countdown_is_queued_for_its_due_time_and_one_left_to_the_relay_is_not():
    assert next_step(attempt=2, status_code=500, failure=Failure.NONE, now=NOW).enqueued_at == NOW + timedelta(
        seconds=5
    )
    assert next_step(attempt=3, status_code=500, failure=Failure.NONE, now=NOW).enqueued_at is None
    assert next_step(attempt=1, status_code=200, failure=Failure.NONE, now=NOW).enqueued_at is None


def test_attempt_numbers_start_at_one():
    with pytest.raises(ValueError, match="start at 1"):
        next_step(attempt=0, status_code=500, failure=Failure.NONE, now=NOW)


retryable_results = st.one_of(
    st.tuples(st.sampled_from([429, *range(500, 600)]), st.just(Failure.NONE)),
    st.tuples(st.none(), st.just(Failure.NETWORK)),
)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(result=retryable_results, now=times)
def test_delays_never_shrink_and_stop_at_the_cap(result, now):
    status_code, failure = result
    delays = []
    for attempt in range(1, MAX_ATTEMPTS):
        step = next_step(attempt=attempt, status_code=status_code, failure=failure, now=now)
        assert step.status == PENDING
        assert step.next_attempt_at is not None
        delays.append(step.next_attempt_at - now)
    assert delays == sorted(delays)
    assert max(delays) == timedelta(hours=10)


@given(result=retryable_results, now=times, extra=st.integers(min_value=0, max_value=100))
def test_a_retryable_failure_at_or_after_the_last_attempt_is_final(result, now, extra):
    status_code, failure = result
    step = next_step(attempt=MAX_ATTEMPTS + extra, status_code=status_code, failure=failure, now=now)
    assert step == NextStep(DEAD)


@given(
    attempt=st.integers(min_value=1, max_value=50),
    status_code=st.one_of(st.none(), st.integers(min_value=100, max_value=599)),
    failure=st.sampled_from(Failure),
    now=times,
)
def test_every_result_has_one_consistent_next_state(attempt, status_code, failure, now):
    step = next_step(attempt=attempt, status_code=status_code, failure=failure, now=now)
    if step.status == PENDING:
        assert attempt < MAX_ATTEMPTS
        assert failure is not Failure.REFUSED
        assert step.next_attempt_at is not None and step.next_attempt_at >= now
        assert step.next_attempt_at - now <= timedelta(hours=10)
        # a countdown only for short delays, and then exactly the delay
        if step.queue_in is not None:
            assert step.queue_in == step.next_attempt_at - now <= COUNTDOWN_LIMIT
        else:
            assert step.next_attempt_at - now > COUNTDOWN_LIMIT
    else:
        assert step.next_attempt_at is None and step.queue_in is None and step.enqueued_at is None
    if step.status == SUCCEEDED:
        assert failure is Failure.NONE and status_code is not None and 200 <= status_code < 300
    if failure is Failure.REFUSED:
        assert step.status == DEAD
