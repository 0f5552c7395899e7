"""The organisation tree as the join flow and the parent picker of an organisation
registration show it (R-ORG-2): expanded nodes carry their children."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from eproc_contracts.directory import OrganisationOut
from eproc_portal.web import Services


@dataclass
class TreeNode:
    """One organisation of the tree; ``children`` is ``None`` while it is collapsed.
    The id is the address's text form, compared with the ``open`` and ``show`` values."""

    id: str
    name: str
    has_children: bool
    children: list[TreeNode] | None = None
    more: int = 0
    """Children beyond the first page (found with the name search)."""


async def expand_tree(
    services: Services,
    token: str,
    lang: str,
    organisations: Iterable[OrganisationOut],
    open_ids: set[str],
) -> list[TreeNode]:
    """Nodes with the children of every expanded node, fetched level by level."""
    nodes = [TreeNode(str(o.id), o.name, o.has_children) for o in organisations]
    expanded = [n for n in nodes if n.id in open_ids and n.has_children]
    pages = await asyncio.gather(
        *(services.organisations.children(token, UUID(n.id), lang) for n in expanded)
    )
    for node, page in zip(expanded, pages, strict=True):
        node.children = await expand_tree(services, token, lang, page.items, open_ids)
        node.more = max(0, page.total - len(page.items))
    return nodes
