"""R-NF-2, last line of defence: a national number never reaches the logs."""

import json

import pytest
import structlog

from eproc_runtime.logging import configure_logging, mask_national_numbers


@pytest.mark.parametrize(
    "text",
    ["71715100070", "card of 71.71.51-000.70 read", "01050399963 (born 2001)", "717151 000 70"],
)
def test_valid_national_numbers_are_masked(text: str) -> None:
    masked = mask_national_numbers(text)
    assert "[national-number]" in masked
    assert "000" not in masked.replace("[national-number]", "")


@pytest.mark.parametrize("text", ["71715100071", "order 12345678901", "id 123"])
def test_other_numbers_are_left_alone(text: str) -> None:
    assert mask_national_numbers(text) == text


def test_log_lines_are_json_and_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("identity", json=True)
    structlog.get_logger("t").info("card read", detail="number 71715100070 seen", count=3)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["service"] == "identity"
    assert record["detail"] == "number [national-number] seen"
    assert "71715100070" not in line
    structlog.reset_defaults()
