"""What the card agent answers and the eID gateway checks: the presentation of a card.

The wire format between the agent on the user's machine and the gateway; the
gateway trusts none of it until it has checked every byte (its presentation.py).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

_B64 = Field(min_length=4, max_length=16384, pattern=r"^[A-Za-z0-9+/=]+$")


class CardPresentation(BaseModel):
    """The card agent's answer to ``POST /authenticate`` (all binary fields base64)."""

    challenge: str = _B64
    identity: str = _B64
    identity_signature: str = _B64
    address: str = _B64
    address_signature: str = _B64
    rrn_certificate: str = _B64
    authentication_certificate: str = _B64
    ca_certificate: str = _B64
    root_certificate: str | None = Field(default=None, description="ignored: roots are configured")
    signature: str = _B64
    signature_algorithm: str = Field(default="", max_length=32, description="informative only")
