"""IB's numbered messages, classified: which reject an order, which are connectivity notices.

Codes from the TWS API message list; anything not listed is neither (logged, no action).
"""

from __future__ import annotations

import enum


class Notice(enum.IntEnum):
    CONNECTIVITY_LOST = 1100
    RESTORED_DATA_LOST = 1101
    RESTORED_DATA_MAINTAINED = 1102
    SOCKET_PORT_RESET = 1300
    SERVER_CONNECTION_BROKEN = 2110


REJECTION_CODES = frozenset(
    {
        103,  # duplicate order id
        104,  # can't modify a filled order
        105,  # order being modified does not match the original order
        106,  # can't transmit order id
        107,  # cannot transmit incomplete order
        109,  # price out of the range of the percentage setting
        110,  # price does not conform to the minimum price variation
        111,  # time in force and order type are incompatible
        116,  # not valid for this exchange / security
        135,  # can't find the order with this id
        154,  # orders cannot be transmitted for a halted security
        200,  # no security definition found
        201,  # order rejected
        203,  # security not available or allowed for this account
        382,  # value exceeds the allowed maximum
        383,  # size exceeds the allowed maximum
        387,  # unsupported order type for this exchange and security type
        388,  # order size below the minimum
    }
)
"""Errors about an order that mean the venue refused it: record, never retry."""


def is_rejection(code: int) -> bool:
    return code in REJECTION_CODES


def is_notice(code: int) -> bool:
    return code in _NOTICES


_NOTICES = frozenset(int(n) for n in Notice)
