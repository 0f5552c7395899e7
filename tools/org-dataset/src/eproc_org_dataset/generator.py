"""Generate the organisation directory: the real tree first, then synthetic filling."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator

from eproc_organisations.enterprise_number import enterprise_number_from_sequence

from .core import CoreBuilder, Draft
from .municipalities import BXL
from .records import Address, OrganisationSeed
from .synthetic import synthetic_drafts
from .vocabulary import STREETS, TOWN_HALL_SQUARES

MAX_SIZE = 1_000_000

# Old-style numbers (0200.000.0xx to 0999.999.9xx, first eight digits) and new-style
# ones (1000.000.0xx onwards), each walked through in a seeded order.
_OLD_BASE, _OLD_SPAN = 2_000_000, 8_000_000
_NEW_BASE, _NEW_SPAN = 10_000_000, 1_000_000
# Share of synthetic organisations registered since 2023, hence with a number 1xxx.
_NEW_SHARE = 0.08


def generate(size: int, seed: int = 0) -> list[OrganisationSeed]:
    """Return ``size`` organisations of the Belgian public sector, parents first.

    The same (size, seed) always gives the same list, and the list for a smaller size is
    a prefix of the list for a larger one. The first ~1,700 organisations are real (the
    federal departments, regions, communities, provinces, the 581 municipalities, their
    CPAS, police zones, universities, hospitals...); beyond that the tree is filled with
    synthetic schools, services, parishes and offices. Enterprise numbers are valid and
    unique but invented. ``size`` goes up to 1,000,000.
    """
    if not 0 <= size <= MAX_SIZE:
        raise ValueError(f"size must be between 0 and {MAX_SIZE}, got {size}")
    return list(itertools.islice(iter_organisations(seed), size))


def iter_organisations(seed: int = 0) -> Iterator[OrganisationSeed]:
    """The endless stream ``generate`` takes its prefix from (stops at MAX_SIZE)."""
    core = CoreBuilder(seed)
    real = core.build()
    drafts = itertools.chain(real, synthetic_drafts(core, seed))
    numbers = _EnterpriseNumbers(seed)
    addresses = random.Random(f"{seed}:addresses")
    recent = random.Random(f"{seed}:recent")
    for position, draft in enumerate(itertools.islice(drafts, MAX_SIZE)):
        # The real bodies all predate 2023; some synthetic ones are newer.
        is_new = position >= len(real) and recent.random() < _NEW_SHARE
        yield OrganisationSeed(
            key=draft.key,
            parent_key=draft.parent_key,
            kind=draft.kind,
            names=draft.names,
            enterprise_number=numbers.new() if is_new else numbers.old(),
            address=_address(draft, addresses),
        )


class _EnterpriseNumbers:
    """Hands out distinct valid enterprise numbers in a seeded order.

    An affine map k -> (a*k + b) mod span, with a coprime to span, visits every value of
    the span once: distinct numbers without remembering the ones handed out.
    """

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"{seed}:enterprise-numbers")
        self._old = _affine(rng, _OLD_SPAN)
        self._new = _affine(rng, _NEW_SPAN)
        self._old_count = 0
        self._new_count = 0

    def old(self) -> str:
        a, b = self._old
        body = _OLD_BASE + (a * self._old_count + b) % _OLD_SPAN
        self._old_count += 1
        return enterprise_number_from_sequence(body)

    def new(self) -> str:
        a, b = self._new
        body = _NEW_BASE + (a * self._new_count + b) % _NEW_SPAN
        self._new_count += 1
        return enterprise_number_from_sequence(body)


def _affine(rng: random.Random, span: int) -> tuple[int, int]:
    a = rng.randrange(span // 10, span)
    while math.gcd(a, span) != 1:
        a += 1
    return a, rng.randrange(span)


def _address(draft: Draft, rng: random.Random) -> Address:
    place = draft.place
    language = _address_language(draft, rng)
    municipality = place.names.get(language, place.name)
    if draft.seat is not None:
        streets, number = draft.seat
        street = streets.get(language) or next(iter(streets.values()))
    elif draft.town_hall:
        street, number = rng.choice(TOWN_HALL_SQUARES[language]), "1"
    else:
        street, number = rng.choice(STREETS[language]), str(rng.randint(1, 250))
    return Address(street, number, place.postcode, municipality)


def _address_language(draft: Draft, rng: random.Random) -> str:
    # The address is written in the language of the place; in Brussels in the language
    # of the organisation when it has only one of nl/fr.
    area = draft.place.area
    if area != BXL:
        return area
    own = [language for language in ("nl", "fr") if language in draft.names]
    if len(own) == 1:
        return own[0]
    return rng.choice(("nl", "fr"))
