"""Every reader or card error reaches the login page with its own stable code."""

from __future__ import annotations

import pytest

from eproc_eid_agent import reader
from eproc_eid_agent.agent import AgentSettings, describe_card_error


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (reader.NoReader("x"), 503, "no_reader"),
        (reader.NoCard("x"), 409, "no_card"),
        (reader.CardRemoved("x"), 409, "card_removed"),
        (reader.WrongPin(2), 401, "wrong_pin"),
        (reader.CardBlocked("x"), 423, "card_blocked"),
        (reader.UnknownCard("x"), 422, "unknown_card"),
        (reader.NoAuthenticationKey("x"), 422, "no_authentication_key"),
        (reader.PinRequired("x"), 401, "pin_required"),
        (reader.CardError("READ BINARY", 0x6F00), 502, "card_error"),
    ],
)
def test_card_errors_have_distinct_codes(error: reader.EidError, status: int, code: str) -> None:
    assert describe_card_error(error)[0] == status
    assert describe_card_error(error)[1]["code"] == code


def test_wrong_pin_says_how_many_tries_are_left() -> None:
    _, detail = describe_card_error(reader.WrongPin(1))
    assert detail["tries_left"] == 1
    assert detail["message"] == "Wrong PIN: 1 try left."


def test_the_agent_refuses_to_listen_beyond_loopback() -> None:
    assert AgentSettings(host="127.0.0.1").host == "127.0.0.1"
    assert AgentSettings(host="::1").host == "::1"
    with pytest.raises(ValueError, match="loopback"):
        AgentSettings(host="0.0.0.0")  # noqa: S104
