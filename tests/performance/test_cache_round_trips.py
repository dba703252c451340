"""The Redis cache shares one client per process, and a rate-limit check is one round trip."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from unittest import mock

import pytest
import redis
import time_machine
from django.test import RequestFactory, override_settings
from rest_framework.request import Request
from rest_framework.test import APIClient

from apps.api.throttles import SessionStatusRateThrottle
from apps.audit.services import Actor
from apps.core.cache import ResilientRedisCache
from apps.organizations.services import api_key_create
from apps.transfers.services import session_create
from tests.reliability.faults_support import RedisServer

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RedisServer]:
    started = RedisServer(tmp_path_factory.mktemp("cache"))
    started.start()
    yield started
    started.stop()


def _cache(server: RedisServer) -> ResilientRedisCache:
    """A new cache object, as Django makes one per thread."""
    return ResilientRedisCache(server.url(3), {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})


@pytest.fixture
def counting(server) -> Iterator[list[str]]:
    """The name of every command sent to Redis (a pipeline's count as one)."""
    sent: list[str] = []
    original_command = redis.Redis.execute_command
    original_pipeline = redis.client.Pipeline.execute

    def command(self, *args, **options):
        sent.append(str(args[0]))
        return original_command(self, *args, **options)

    def pipeline(self, *args, **kwargs):
        sent.append("PIPELINE:" + ",".join(str(c[0][0]) for c in self.command_stack))
        return original_pipeline(self, *args, **kwargs)

    _cache(server).clear()
    with (
        mock.patch.object(redis.Redis, "execute_command", command),
        mock.patch.object(redis.client.Pipeline, "execute", pipeline),
    ):
        yield sent


def test_cache_objects_of_all_threads_share_one_client_and_pool(server):
    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(lambda _: _cache(server)._cache.get_client(write=True), range(32)))

    assert len({id(c) for c in clients}) == 1
    assert len({id(c.connection_pool) for c in clients}) == 1


def test_operations_build_no_new_redis_client(server):
    cache = _cache(server)
    cache.set("warm", 1)
    with mock.patch.object(redis.Redis, "__init__", side_effect=AssertionError("a new client")):
        cache.set("k", {"v": 1}, 30)
        assert cache.get("k") == {"v": 1}
        assert cache.add("k", 2) is False
        assert cache.incr_window("n", 5) == 1


def test_another_configuration_gets_its_own_client(server):
    assert _cache(server)._cache is not ResilientRedisCache(server.url(4), {})._cache


def test_a_window_hit_is_one_round_trip_and_expires(server, counting):
    cache = _cache(server)

    assert [cache.incr_window("hits", 7) for _ in range(3)] == [1, 2, 3]

    assert counting == ["PIPELINE:SET,INCRBY"] * 3
    ttl = redis.Redis.from_url(server.url(3)).ttl(cache.make_and_validate_key("hits"))
    assert 0 < ttl <= 7


def test_a_counter_lives_from_its_first_hit_and_later_hits_do_not_extend_it(server):
    """A fixed window (apps.core.counters): the sign-in lockouts count from the first failure."""
    cache = _cache(server)
    raw = redis.Redis.from_url(server.url(3))
    key = cache.make_and_validate_key("fixed")
    cache.incr_window("fixed", 100)
    raw.expire(key, 3)  # as if the first hit were 97 seconds ago

    assert cache.incr_window("fixed", 100) == 2
    assert 0 < raw.ttl(key) <= 3


def test_a_counter_that_expired_between_its_two_commands_still_gets_an_expiry(server):
    cache = _cache(server)
    raw = redis.Redis.from_url(server.url(3))
    key = cache.make_and_validate_key("raced")
    raw.set(key, 5, ex=100)
    original = redis.client.Pipeline.execute

    def expire_between(self, *args, **kwargs):
        created, _ = original(self, *args, **kwargs)
        raw.delete(key)  # what expiry between SET NX and INCRBY would leave: INCRBY's own key
        return created, raw.incrby(key, 1)

    with mock.patch.object(redis.client.Pipeline, "execute", expire_between):
        assert cache.incr_window("raced", 9) == 1

    assert 0 < raw.ttl(key) <= 9


def test_a_status_poll_check_is_one_round_trip(server, counting, settings):
    cache = _cache(server)
    request = Request(RequestFactory().get("/", REMOTE_ADDR="198.51.100.7"))
    view = mock.Mock(kwargs={"session_id": "0b3e6f5c-9f0d-4a35-9a43-3a1d2b6a9c11"})

    with override_settings(SESSION_STATUS_RATE_LIMIT="3/s"), time_machine.travel(1_800_000_000.25, tick=False):
        answers = []
        for _ in range(4):
            throttle = SessionStatusRateThrottle()
            throttle.cache = cache
            answers.append(throttle.allow_request(request, view))

    assert answers == [True, True, True, False]
    assert throttle.wait() == pytest.approx(0.75)
    assert counting == ["PIPELINE:SET,INCRBY"] * 4


@pytest.mark.django_db
def test_a_hot_status_poll_is_one_round_trip_and_no_query(server, counting, org, django_assert_num_queries):
    """The whole request: the rate-limit count and the cached entry in one pipeline, no
    database, and the same answer (body and headers) as the database path gave."""
    redis_cache = {"default": {"BACKEND": "apps.core.cache.ResilientRedisCache", "LOCATION": server.url(3)}}
    with override_settings(CACHES=redis_cache, SESSION_STATUS_RATE_LIMIT="3/s"):
        session, token = session_create(
            organization=org, scopes=["email"], actor=Actor.system("test"), expires_in=timedelta(minutes=5)
        )
        url = f"/api/v1/session/{session.pk}/status"
        client = APIClient()
        with time_machine.travel(1_800_000_000.25, tick=False):
            first = client.get(url, HTTP_X_SESSION_TOKEN=token)  # a miss: the database, then the entry
            counting.clear()
            with django_assert_num_queries(0):
                hot = [client.get(url, HTTP_X_SESSION_TOKEN=token) for _ in range(2)]
            over = client.get(url, HTTP_X_SESSION_TOKEN=token)

    assert first.status_code == 200
    assert [r.status_code for r in hot] == [200, 200]
    for response in hot:
        assert response.content == first.content
        for header in ("Content-Type", "Allow", "Vary", "X-Frame-Options", "Content-Security-Policy"):
            assert response.get(header) == first.get(header), header
    assert counting[:2] == ["PIPELINE:SET,INCRBY,GET"] * 2
    # The fourth poll in the window is refused by the DRF throttle, counted once, not twice.
    assert over.status_code == 429
    assert counting[2:] == ["PIPELINE:SET,INCRBY,GET"]


@pytest.mark.django_db
def test_an_api_request_reads_its_key_and_counts_its_limit_in_one_round_trip(server, counting, org):
    """After the first request, the key comes from the cache in the pipeline that counts the
    request for the key's rate limit: one round trip to Redis, no query for the key."""
    redis_cache = {"default": {"BACKEND": "apps.core.cache.ResilientRedisCache", "LOCATION": server.url(3)}}
    with override_settings(CACHES=redis_cache, API_RATE_LIMIT="100/min"):
        _, raw = api_key_create(organization=org)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert client.get("/api/v1/orgs/acme/external-personal-identities").status_code == 200
        counting.clear()
        assert client.get("/api/v1/orgs/acme/external-personal-identities").status_code == 200

    assert counting == ["PIPELINE:SET,INCRBY,GET"]


def test_an_unreadable_entry_read_with_a_count_is_a_miss(server):
    cache = _cache(server)
    redis.Redis.from_url(server.url(3)).set(cache.make_and_validate_key("entry"), b"\x80\x04not a pickle")

    assert cache.incr_window_get("count", 5, "entry") == (1, None)


def test_the_shared_client_answers_misses_while_redis_is_down_and_recovers(tmp_path):
    own = RedisServer(tmp_path)
    own.start()
    cache = ResilientRedisCache(own.url(0), {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})
    try:
        cache.set("k", "v")
        assert cache.get("k") == "v"
        own.stop()

        assert cache.get("k", "miss") == "miss"
        assert cache.add("k", 1) is False
        assert cache.incr_window("n", 5) is None  # a limit fails open

        own.start()  # same port, empty
        assert cache.add("k", 1) is True
        assert cache.incr_window("n", 5) == 1
    finally:
        own.stop()
