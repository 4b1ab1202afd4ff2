"""Alpaca's failures, classified into the three the platform acts on (STYLE 10).

Transport failures are decided by whether the request can have reached the venue: a refused or
timed-out *connect* sent nothing (safe to retry, and repeated it means the venue is
unavailable); a read timeout or a reset after sending is ambiguous (TransientBrokerError: the
caller marks the order UNKNOWN and resolves it by lookup). HTTP answers are decided by status:
5xx is ambiguous, 401 means the keys do not work here, other 4xx is the venue saying no.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import requests
from alpaca.common.exceptions import APIError
from urllib3.exceptions import NewConnectionError

from app.ports.broker import BrokerError, BrokerUnavailable, OrderRejected, TransientBrokerError

_NS_PER_S = 1_000_000_000
_DUPLICATE_ID = "client_order_id must be unique"


@dataclass(frozen=True, slots=True)
class VenueHttpError(Exception):
    """An HTTP error answer from Alpaca, with what its body and headers said."""

    status: int
    message: str
    code: int | None = None
    retry_after_s: float | None = None
    reset_epoch_s: int | None = None

    def __str__(self) -> str:
        return f"alpaca answered {self.status}: {self.message}"

    @property
    def rate_limited(self) -> bool:
        return self.status == 429

    @property
    def duplicate_client_order_id(self) -> bool:
        return self.status in (409, 422) and _DUPLICATE_ID in self.message.lower()

    def resume_ns(self, *, now_ns: int, fallback_s: float) -> int:
        """When a rate-limited request may go again: Retry-After, else X-RateLimit-Reset
        (epoch seconds), else `fallback_s` from now; never in the past."""
        if self.retry_after_s is not None:
            return now_ns + int(self.retry_after_s * _NS_PER_S)
        if self.reset_epoch_s is not None:
            return max(now_ns, self.reset_epoch_s * _NS_PER_S)
        return now_ns + int(fallback_s * _NS_PER_S)


def from_api_error(error: APIError) -> VenueHttpError:
    """Read status, body and rate-limit headers out of alpaca-py's APIError."""
    response = error.response
    status = int(response.status_code) if response is not None else 0
    text = str(error)
    message, code = text, None
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message", text))
        raw_code = body.get("code")
        code = raw_code if isinstance(raw_code, int) else None
    headers = response.headers if response is not None else {}
    reset = _header_number(headers.get("X-RateLimit-Reset"))
    return VenueHttpError(
        status=status,
        message=message,
        code=code,
        retry_after_s=_header_number(headers.get("Retry-After")),
        reset_epoch_s=None if reset is None else int(reset),
    )


def _header_number(raw: str | None) -> float | None:
    """A non-negative number of seconds from a header; anything else (an HTTP date) is None."""
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def never_sent(error: requests.RequestException) -> bool:
    """True when the request cannot have reached the venue: the TCP connect failed."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError) and error.args:
        reason = getattr(error.args[0], "reason", None)
        return isinstance(reason, NewConnectionError)
    return False


def transport_error(error: requests.RequestException) -> BrokerError:
    """A request that may have reached the venue but got no answer: the outcome is unknown."""
    return TransientBrokerError(f"no answer from alpaca: {type(error).__name__}")


def order_error(error: VenueHttpError) -> BrokerError:
    """For submit, cancel and replace: the venue's no is final, its failure is not."""
    if error.status >= 500 or error.status == 0:
        return TransientBrokerError(str(error))
    if error.status == 401:
        return BrokerUnavailable(str(error))
    return OrderRejected(str(error))


def query_error(error: VenueHttpError) -> BrokerError:
    """For reads: a 5xx may pass; a 4xx means this adapter cannot read the venue."""
    if error.status >= 500 or error.status == 0:
        return TransientBrokerError(str(error))
    return BrokerUnavailable(str(error))
