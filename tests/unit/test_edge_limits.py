"""Flood windows, per-address limits, log throttling, client address and origin rules."""

from types import SimpleNamespace
from typing import Any

import pytest

from server.edge import Edge, normalize_origin
from server.limits import AddressLimiter, LogThrottle, TokenBucket


def test_refusals_do_not_reset_when_a_token_refills() -> None:
    bucket = TokenBucket(rate=30, burst=60, now=0.0, max_refusals=100, window_s=10.0)
    t, refused = 0.0, 0
    while not bucket.flooding:  # paced at 400 events a second
        refused += not bucket.allow(t)
        t += 1 / 400
    assert refused == 101 and t < 1.0


def test_a_client_just_within_the_rate_never_floods() -> None:
    bucket = TokenBucket(rate=30, burst=60, now=0.0, max_refusals=100, window_s=10.0)
    for i in range(10_000):
        assert bucket.allow(i / 29.0)
    assert not bucket.flooding and bucket.strikes == 0


def test_refusals_age_out_of_the_window() -> None:
    bucket = TokenBucket(rate=1, burst=1, now=0.0, max_refusals=3, window_s=10.0)
    assert bucket.allow(0.0)
    for t in (0.1, 0.2, 0.3):
        assert not bucket.allow(t)
    assert not bucket.flooding
    bucket.refuse(20.0)
    assert bucket.strikes == 1


def test_address_limiter_counts_attempts_and_open_connections() -> None:
    limiter = AddressLimiter(attempts=60, window_s=30.0, max_open=50)
    assert [limiter.admit("198.51.100.1", i * 0.1) for i in range(50)] == [None] * 50
    assert limiter.admit("198.51.100.1", 5.0) == "too many open connections"
    limiter.release("198.51.100.1")
    assert limiter.admit("198.51.100.1", 5.1) is None
    assert limiter.admit("198.51.100.2", 5.1) is None
    for _ in range(8):
        limiter.release("198.51.100.1")
        limiter.admit("198.51.100.1", 6.0)
    assert limiter.admit("198.51.100.1", 6.0) == "too many connection attempts"
    limiter.release("198.51.100.1")
    assert limiter.admit("198.51.100.1", 40.0) is None  # the window moved on


def test_log_throttle_counts_what_it_left_out() -> None:
    throttle = LogThrottle(10.0)
    assert throttle.allow("x", 0.0) == 0
    assert [throttle.allow("x", t) for t in (1.0, 2.0, 3.0)] == [None] * 3
    assert throttle.allow("y", 3.0) == 0
    assert throttle.allow("x", 10.5) == 3


def request(remote: str, host: str = "moten.example.fi", secure: bool = False,
            **headers: str) -> Any:
    class Headers(dict[str, str]):
        def getall(self, key: str, default: list[str]) -> list[str]:
            return [self[key]] if key in self else default
    return SimpleNamespace(remote=remote, host=host, secure=secure, headers=Headers(headers))


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    edge = Edge(["10.0.0.0/8", "::1"], [], None)
    spoof = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    assert edge.client_address(request("192.0.2.5", **spoof)) == "192.0.2.5"
    assert edge.client_address(request("10.1.2.3", **spoof)) == "198.51.100.7"
    chain = {"X-Forwarded-For": "198.51.100.7, 10.9.9.9"}
    assert edge.client_address(request("10.1.2.3", **chain)) == "198.51.100.7"
    assert edge.client_address(request("10.1.2.3")) == "10.1.2.3"
    assert Edge([], [], None).client_address(request("10.1.2.3", **spoof)) == "10.1.2.3"


def test_own_origin_and_allow_list() -> None:
    edge = Edge(["10.0.0.1"], ["https://intra.example.fi/"], None)
    plain = request("192.0.2.5", host="moten.example.fi:8080")
    assert edge.origin_allowed("http://moten.example.fi:8080", plain)
    assert edge.origin_allowed("HTTPS://INTRA.example.fi:443", plain)
    assert not edge.origin_allowed("https://evil.example", plain)
    assert not edge.origin_allowed("null", plain)
    assert edge.origin_allowed(None, plain)  # not a browser
    proxied = request("10.0.0.1", host="moten.example.fi", **{"X-Forwarded-Proto": "https"})
    assert edge.origin_allowed("https://moten.example.fi", proxied)
    spoofed = request("192.0.2.5", host="moten.example.fi", **{"X-Forwarded-Proto": "https"})
    assert not edge.origin_allowed("https://moten.example.fi", spoofed)
    public = Edge([], [], "https://moten.example.fi/base/")
    assert public.origin_allowed("https://moten.example.fi", plain)
    assert not public.origin_allowed("http://moten.example.fi:8080", plain)


@pytest.mark.parametrize("given, wanted", [
    ("http://Example.org:80", "http://example.org"), ("https://[::1]:8443", "https://[::1]:8443"),
    ("ftp://x", ""), ("null", ""), ("http://h:99999", "")])
def test_normalize_origin(given: str, wanted: str) -> None:
    assert normalize_origin(given) == wanted


def test_bad_trusted_proxy_is_refused_at_start() -> None:
    with pytest.raises(ValueError):
        Edge(["not-an-address"], [], None)
    with pytest.raises(ValueError):
        Edge([], ["intra.example.fi"], None)
