"""Deterministic, seedable dataset of the Belgian public sector organisation tree.

``generate(size, seed)`` returns ``OrganisationSeed`` records, parents before children,
for tests, demos and load tests of the organisation directory. Pure Python, no database.
"""

from .generator import MAX_SIZE, generate, iter_organisations
from .records import Address, OrganisationSeed

__all__ = ["MAX_SIZE", "Address", "OrganisationSeed", "generate", "iter_organisations"]
