"""Alpaca's failures classified: what may be retried, what is final, what trips the breaker."""

from __future__ import annotations

import socket

import pytest
import requests
from alpaca.common.exceptions import APIError

from app.brokers.alpaca.errors import (
    VenueHttpError,
    from_api_error,
    never_sent,
    order_error,
    query_error,
)
from app.ports.broker import BrokerUnavailable, OrderRejected, TransientBrokerError

SECOND = 1_000_000_000
NOW = 1_795_185_000 * SECOND


def api_error(status: int, body: str, headers: dict[str, str] | None = None) -> APIError:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    return APIError(body, requests.HTTPError(response=response))  # type: ignore[no-untyped-call]


def test_status_code_and_rate_limit_headers_are_read() -> None:
    error = from_api_error(
        api_error(
            429,
            '{"code": 42910000, "message": "rate limit exceeded"}',
            {"X-RateLimit-Reset": str(NOW // SECOND + 5), "Retry-After": "2"},
        )
    )
    assert (error.status, error.code, error.message) == (429, 42910000, "rate limit exceeded")
    assert error.rate_limited
    assert error.resume_ns(now_ns=NOW, fallback_s=1.0) == NOW + 2 * SECOND


def test_the_reset_header_is_used_without_retry_after_and_never_lies_in_the_past() -> None:
    ahead = VenueHttpError(status=429, message="", reset_epoch_s=NOW // SECOND + 5)
    behind = VenueHttpError(status=429, message="", reset_epoch_s=NOW // SECOND - 5)
    bare = VenueHttpError(status=429, message="")
    assert ahead.resume_ns(now_ns=NOW, fallback_s=1.0) == NOW + 5 * SECOND
    assert behind.resume_ns(now_ns=NOW, fallback_s=1.0) == NOW
    assert bare.resume_ns(now_ns=NOW, fallback_s=1.5) == NOW + 3 * SECOND // 2


def test_a_body_that_is_not_json_is_kept_as_the_message() -> None:
    error = from_api_error(api_error(502, "<html>bad gateway</html>", {"Retry-After": "soon"}))
    assert (error.status, error.message, error.retry_after_s) == (
        502,
        "<html>bad gateway</html>",
        None,
    )


@pytest.mark.parametrize("status", [409, 422])
def test_a_taken_client_order_id_is_recognised(status: int) -> None:
    error = VenueHttpError(status=status, message="client_order_id must be unique")
    assert error.duplicate_client_order_id
    assert not VenueHttpError(status=422, message="qty must be > 0").duplicate_client_order_id


@pytest.mark.parametrize(
    ("status", "for_orders", "for_queries"),
    [
        (500, TransientBrokerError, TransientBrokerError),
        (502, TransientBrokerError, TransientBrokerError),
        (401, BrokerUnavailable, BrokerUnavailable),
        (403, OrderRejected, BrokerUnavailable),
        (422, OrderRejected, BrokerUnavailable),
    ],
)
def test_statuses_map_to_what_the_caller_does_next(
    status: int, for_orders: type[Exception], for_queries: type[Exception]
) -> None:
    error = VenueHttpError(status=status, message="x")
    assert type(order_error(error)) is for_orders
    assert type(query_error(error)) is for_queries


def test_a_refused_connect_is_known_not_to_have_been_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(f"http://127.0.0.1:{port}/", timeout=1)
    assert never_sent(refused.value)
    assert never_sent(requests.ConnectTimeout())
    assert not never_sent(requests.ReadTimeout())
    assert not never_sent(requests.ConnectionError("Connection aborted."))
