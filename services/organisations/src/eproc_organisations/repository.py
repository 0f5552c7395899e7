"""Every query of the service, built from a session (STYLE.md habit 7)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Result,
    RowMapping,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import name_in_language
from eproc_contracts.envelope import new_event_id
from eproc_organisations.models import (
    applied_request,
    audit_record,
    dossier_link,
    known_user,
    membership,
    membership_role,
    operator_status,
    organisation,
    organisation_name,
    search_word,
)
from eproc_organisations.roles import Grant
from eproc_organisations.search import normalise, search_texts, words_of
from eproc_runtime.db import upsert
from eproc_runtime.operators import OperatorStatuses

LANGUAGES = ("nl", "fr", "de", "en")


@dataclass(frozen=True)
class Organisation:
    id: UUID
    parent_id: UUID | None
    key: str | None
    kind: str | None
    enterprise_number: str
    names: dict[str, str]
    street: str
    house_number: str
    postcode: str
    municipality: str
    country: str
    has_children: bool = False

    def name(self, language: str | None = None) -> str:
        """The name a reader of ``language`` sees (fallback order: ``NAME_FALLBACK``)."""
        return name_in_language(self.names, language) or ""


@dataclass(frozen=True)
class Membership:
    id: UUID
    user_id: UUID
    organisation_id: UUID
    is_default: bool
    created_at: datetime
    roles: frozenset[Grant] = field(default_factory=frozenset)


_has_children = (
    exists()
    .where(organisation.alias("child").c.parent_id == organisation.c.id)
    .correlate(organisation)
    .label("has_children")
)


def _organisation(m: RowMapping) -> Organisation:
    return Organisation(
        id=m["id"],
        parent_id=m["parent_id"],
        key=m["key"],
        kind=m["kind"],
        enterprise_number=m["enterprise_number"],
        names={lang: m[f"name_{lang}"] for lang in LANGUAGES if m[f"name_{lang}"]},
        street=m["street"],
        house_number=m["house_number"],
        postcode=m["postcode"],
        municipality=m["municipality"],
        country=m["country"],
        has_children=bool(m.get("has_children", False)),
    )


def organisation_values(
    *,
    id: UUID,
    parent_id: UUID | None,
    names: Mapping[str, str | None],
    enterprise_number: str,
    street: str,
    house_number: str,
    postcode: str,
    municipality: str,
    country: str = "BE",
    key: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """The row of an organisation (also used by the bulk importer)."""
    clean = {lang: names.get(lang) or None for lang in LANGUAGES}
    first = next(n for n in clean.values() if n)
    return {
        "id": id,
        "parent_id": parent_id,
        "key": key,
        "kind": kind,
        "enterprise_number": enterprise_number,
        **{f"name_{lang}": clean[lang] for lang in LANGUAGES},
        "sort_name": normalise(first)[:300],
        "street": street,
        "house_number": house_number,
        "postcode": postcode,
        "municipality": municipality,
        "country": country,
    }


class Directory:
    """The organisation tree and its names."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, organisation_id: UUID, *, lock: bool = False) -> Organisation | None:
        query = select(organisation, _has_children).where(organisation.c.id == organisation_id)
        if lock:
            # Serialises membership changes per organisation, so two concurrent leaves
            # cannot both pass the last-Superuser guard.
            query = select(organisation).where(organisation.c.id == organisation_id)
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return _organisation(row._mapping) if row else None

    async def many(self, ids: Sequence[UUID]) -> dict[UUID, Organisation]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(organisation, _has_children).where(organisation.c.id.in_(list(ids)))
        )
        return {o.id: o for o in map(_organisation, rows.mappings())}

    async def by_key(self, key: str) -> Organisation | None:
        row = (
            await self.session.execute(
                select(organisation, _has_children).where(organisation.c.key == key)
            )
        ).first()
        return _organisation(row._mapping) if row else None

    async def by_enterprise_number(self, enterprise_number: str) -> Organisation | None:
        row = (
            await self.session.execute(
                select(organisation, _has_children).where(
                    organisation.c.enterprise_number == enterprise_number
                )
            )
        ).first()
        return _organisation(row._mapping) if row else None

    async def enterprise_number_taken(self, enterprise_number: str) -> bool:
        found = await self.session.scalar(
            select(organisation.c.id).where(organisation.c.enterprise_number == enterprise_number)
        )
        return found is not None

    async def children(
        self, parent_id: UUID | None, *, offset: int, limit: int
    ) -> tuple[list[Organisation], int]:
        """One page of an organisation's children (or of the roots), by name, and the total."""
        condition = (
            organisation.c.parent_id.is_(None)
            if parent_id is None
            else organisation.c.parent_id == parent_id
        )
        total = await self.session.scalar(
            select(func.count()).select_from(organisation).where(condition)
        )
        rows = await self.session.execute(
            select(organisation, _has_children)
            .where(condition)
            .order_by(organisation.c.sort_name, organisation.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [_organisation(r._mapping) for r in rows], int(total or 0)

    async def path_to_root(self, organisation_id: UUID) -> list[Organisation]:
        """The organisation's ancestors from the root down, ending with itself."""
        start = select(
            organisation.c.id, organisation.c.parent_id, literal(0).label("depth")
        ).where(organisation.c.id == organisation_id)
        ancestors = start.cte("ancestors", recursive=True)
        parent = organisation.alias("parent")
        ancestors = ancestors.union_all(
            select(parent.c.id, parent.c.parent_id, ancestors.c.depth + 1).where(
                parent.c.id == ancestors.c.parent_id
            )
        )
        rows = await self.session.execute(
            select(organisation, _has_children)
            .join(ancestors, ancestors.c.id == organisation.c.id)
            .order_by(ancestors.c.depth.desc())
        )
        return [_organisation(r._mapping) for r in rows]

    async def add(self, values: Mapping[str, Any]) -> None:
        await self.session.execute(insert(organisation).values(**values))
        await self._replace_names(values["id"], values)

    async def update(self, organisation_id: UUID, values: Mapping[str, Any]) -> None:
        await self.session.execute(
            update(organisation)
            .where(organisation.c.id == organisation_id)
            .values(**values, updated_at=func.now())
        )
        await self._replace_names(organisation_id, values)

    async def _replace_names(self, organisation_id: UUID, values: Mapping[str, Any]) -> None:
        await self.session.execute(
            delete(organisation_name).where(organisation_name.c.organisation_id == organisation_id)
        )
        texts = search_texts(values.get(f"name_{lang}") for lang in LANGUAGES)
        if texts:
            await self.session.execute(
                insert(organisation_name),
                [{"organisation_id": organisation_id, "search_text": t[:300]} for t in texts],
            )
            words = [{"word": w, "frequency": 1} for w in sorted(words_of(texts))]
            if words:
                await self.session.execute(
                    upsert(
                        self.session,
                        search_word,
                        keys=["word"],
                        update={"frequency": search_word.c.frequency + 1},
                    ),
                    words,
                )


class Memberships:
    """Memberships, their roles, dossier links, known users."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _with_roles(self, result: Result[Any]) -> list[Membership]:
        found = result.mappings().all()
        if not found:
            return []
        roles: dict[UUID, set[Grant]] = {m["id"]: set() for m in found}
        role_rows = await self.session.execute(
            select(membership_role).where(membership_role.c.membership_id.in_(list(roles)))
        )
        for membership_id, application, role in role_rows:
            roles[membership_id].add((application, role))
        return [
            Membership(
                id=m["id"],
                user_id=m["user_id"],
                organisation_id=m["organisation_id"],
                is_default=m["is_default"],
                created_at=m["created_at"],
                roles=frozenset(roles[m["id"]]),
            )
            for m in found
        ]

    async def get(self, user_id: UUID, organisation_id: UUID) -> Membership | None:
        rows = await self.session.execute(
            select(membership).where(
                membership.c.user_id == user_id, membership.c.organisation_id == organisation_id
            )
        )
        found = await self._with_roles(rows)
        return found[0] if found else None

    async def of_user(self, user_id: UUID) -> list[Membership]:
        """A user's memberships, oldest first."""
        rows = await self.session.execute(
            select(membership)
            .where(membership.c.user_id == user_id)
            .order_by(membership.c.created_at, membership.c.id)
        )
        return await self._with_roles(rows)

    async def of_organisation(self, organisation_id: UUID) -> list[Membership]:
        rows = await self.session.execute(
            select(membership)
            .where(membership.c.organisation_id == organisation_id)
            .order_by(membership.c.created_at, membership.c.id)
        )
        return await self._with_roles(rows)

    async def of_organisations(self, organisation_ids: Sequence[UUID]) -> list[Membership]:
        if not organisation_ids:
            return []
        rows = await self.session.execute(
            select(membership).where(membership.c.organisation_id.in_(list(organisation_ids)))
        )
        return await self._with_roles(rows)

    async def add(
        self, user_id: UUID, organisation_id: UUID, roles: Iterable[Grant], *, is_default: bool
    ) -> UUID:
        membership_id = new_event_id()  # UUIDv7: the id orders memberships by creation
        await self.session.execute(
            insert(membership).values(
                id=membership_id,
                user_id=user_id,
                organisation_id=organisation_id,
                is_default=is_default,
            )
        )
        await self.set_roles(membership_id, roles)
        return membership_id

    async def set_roles(self, membership_id: UUID, roles: Iterable[Grant]) -> None:
        await self.session.execute(
            delete(membership_role).where(membership_role.c.membership_id == membership_id)
        )
        rows = [{"membership_id": membership_id, "application": a, "role": r} for a, r in roles]
        if rows:
            await self.session.execute(insert(membership_role), rows)

    async def remove(self, membership_id: UUID) -> None:
        await self.session.execute(
            delete(membership_role).where(membership_role.c.membership_id == membership_id)
        )
        await self.session.execute(delete(membership).where(membership.c.id == membership_id))

    async def set_default(self, user_id: UUID, organisation_id: UUID | None) -> None:
        # Clear first: the partial unique index allows one default per user at any moment.
        await self.session.execute(
            update(membership)
            .where(membership.c.user_id == user_id, membership.c.is_default)
            .values(is_default=False)
        )
        if organisation_id is not None:
            await self.session.execute(
                update(membership)
                .where(
                    membership.c.user_id == user_id,
                    membership.c.organisation_id == organisation_id,
                )
                .values(is_default=True)
            )

    async def holders(self, organisation_id: UUID, grant: Grant) -> set[UUID]:
        """The members of the organisation holding ``grant``."""
        rows = await self.session.execute(
            select(membership.c.user_id)
            .join(membership_role, membership_role.c.membership_id == membership.c.id)
            .where(
                membership.c.organisation_id == organisation_id,
                membership_role.c.application == grant[0],
                membership_role.c.role == grant[1],
            )
        )
        return set(rows.scalars())

    async def is_holder(self, user_id: UUID, organisation_id: UUID, grant: Grant) -> bool:
        found = await self.session.scalar(
            select(membership.c.id)
            .join(membership_role, membership_role.c.membership_id == membership.c.id)
            .where(
                membership.c.user_id == user_id,
                membership.c.organisation_id == organisation_id,
                membership_role.c.application == grant[0],
                membership_role.c.role == grant[1],
            )
        )
        return found is not None

    # --- dossier links -----------------------------------------------------------

    async def linked_dossiers(self, user_id: UUID, organisation_id: UUID) -> list[tuple[str, str]]:
        rows = await self.session.execute(
            select(dossier_link.c.application, dossier_link.c.dossier_id)
            .where(
                dossier_link.c.user_id == user_id,
                dossier_link.c.organisation_id == organisation_id,
            )
            .order_by(dossier_link.c.application, dossier_link.c.dossier_id)
        )
        return [(a, d) for a, d in rows]

    async def link_dossier(
        self, application: str, dossier_id: str, organisation_id: UUID, user_id: UUID
    ) -> None:
        key = and_(
            dossier_link.c.application == application,
            dossier_link.c.dossier_id == dossier_id,
            dossier_link.c.organisation_id == organisation_id,
            dossier_link.c.user_id == user_id,
        )
        if await self.session.scalar(select(func.count()).select_from(dossier_link).where(key)):
            return
        await self.session.execute(
            insert(dossier_link).values(
                application=application,
                dossier_id=dossier_id,
                organisation_id=organisation_id,
                user_id=user_id,
            )
        )

    async def unlink_dossier(
        self, application: str, dossier_id: str, organisation_id: UUID, user_id: UUID
    ) -> None:
        await self.session.execute(
            delete(dossier_link).where(
                dossier_link.c.application == application,
                dossier_link.c.dossier_id == dossier_id,
                dossier_link.c.organisation_id == organisation_id,
                dossier_link.c.user_id == user_id,
            )
        )

    # --- known users -------------------------------------------------------------

    async def known_user(self, user_id: UUID) -> Mapping[str, Any] | None:
        row = (
            await self.session.execute(select(known_user).where(known_user.c.id == user_id))
        ).first()
        return dict(row._mapping) if row else None

    async def known_user_by_username(self, username: str) -> Mapping[str, Any] | None:
        row = (
            await self.session.execute(
                select(known_user).where(func.lower(known_user.c.username) == username.lower())
            )
        ).first()
        return dict(row._mapping) if row else None

    async def known_users(self, ids: Iterable[UUID]) -> dict[UUID, Mapping[str, Any]]:
        wanted = list(ids)
        if not wanted:
            return {}
        rows = await self.session.execute(select(known_user).where(known_user.c.id.in_(wanted)))
        return {r.id: dict(r._mapping) for r in rows}

    async def remember_user(self, user_id: UUID, values: Mapping[str, Any]) -> None:
        if await self.known_user(user_id) is None:
            await self.session.execute(insert(known_user).values(id=user_id, **values))
        else:
            await self.session.execute(
                update(known_user).where(known_user.c.id == user_id).values(**values)
            )


class Records:
    """The audit trail and the applied requests."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def audit(
        self,
        *,
        action: str,
        actor_id: UUID | None,
        actor_kind: str,
        organisation_id: UUID | None,
        subject_user_id: UUID | None = None,
        on_behalf_of: UUID | None = None,
        request_id: UUID | None = None,
        detail: Mapping[str, Any] | None = None,
        summary: str = "",
    ) -> None:
        await self.session.execute(
            insert(audit_record).values(
                id=new_event_id(),
                action=action,
                actor_id=actor_id,
                actor_kind=actor_kind,
                on_behalf_of=on_behalf_of,
                organisation_id=organisation_id,
                subject_user_id=subject_user_id,
                request_id=request_id,
                detail=dict(detail or {}),
                summary=summary,
            )
        )

    async def audit_trail(
        self, organisation_id: UUID, *, offset: int, limit: int
    ) -> list[Mapping[str, Any]]:
        rows = await self.session.execute(
            select(audit_record)
            .where(audit_record.c.organisation_id == organisation_id)
            .order_by(audit_record.c.occurred_at.desc(), audit_record.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]

    async def search(
        self,
        *,
        user_id: UUID | None,
        organisation_id: UUID | None,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
    ) -> list[Mapping[str, Any]]:
        """Newest first; ``user_id`` is the one who acted or the one acted upon."""
        query = select(audit_record)
        if user_id is not None:
            query = query.where(
                or_(audit_record.c.actor_id == user_id, audit_record.c.subject_user_id == user_id)
            )
        if organisation_id is not None:
            query = query.where(audit_record.c.organisation_id == organisation_id)
        if since is not None:
            query = query.where(audit_record.c.occurred_at >= since)
        if until is not None:
            query = query.where(audit_record.c.occurred_at < until)
        rows = await self.session.execute(
            query.order_by(audit_record.c.occurred_at.desc(), audit_record.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]

    async def applied_outcome(self, request_id: UUID) -> str | None:
        return await self.session.scalar(
            select(applied_request.c.outcome).where(applied_request.c.request_id == request_id)
        )

    async def mark_applied(self, request_id: UUID, outcome: str) -> None:
        await self.session.execute(
            insert(applied_request).values(request_id=request_id, outcome=outcome)
        )


operators = OperatorStatuses(operator_status)
"""This service's projection of identity's platform-operator status."""
