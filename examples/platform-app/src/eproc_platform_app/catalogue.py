"""The application's role names in the reader's language, from the hub's role
catalogue (the organisations service's ``GET /roles``, SPEC §4): a page shows
"Dossierverantwoordelijke" or "Responsable de dossier", never ``dossier-manager``."""

from __future__ import annotations

import logging
import time

import httpx

from eproc_contracts.roles import RoleCatalogue

log = logging.getLogger(__name__)

REFRESH_SECONDS = 300


class RoleNames:
    """The catalogue, fetched when first needed and again every few minutes."""

    def __init__(self, url: str | None, application: str) -> None:
        self.url = url
        self.application = application
        self._catalogue: RoleCatalogue | None = None
        self._fetched_at = 0.0

    async def _current(self) -> RoleCatalogue | None:
        if self.url and time.monotonic() - self._fetched_at > REFRESH_SECONDS:
            self._fetched_at = time.monotonic()
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(self.url)
                    response.raise_for_status()
                self._catalogue = RoleCatalogue.model_validate(response.json())
            except (httpx.HTTPError, ValueError) as error:
                # Role names are a courtesy: the page still works, with plain words.
                log.warning("role catalogue unavailable: %r", error)
        return self._catalogue

    async def names(self, roles: list[str] | frozenset[str], language: str) -> list[str]:
        """``roles`` (this application's role ids) as their names in ``language``."""
        catalogue = await self._current()
        shown = []
        for role in sorted(roles):
            found = catalogue.role(self.application, role) if catalogue else None
            if found is not None:
                shown.append(getattr(found.names, language, found.names.en))
            else:  # a role the catalogue does not know (yet): its id in words
                shown.append(role.replace("-", " ").capitalize())
        return shown
