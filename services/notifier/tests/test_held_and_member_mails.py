"""Issue 19, point 5, through real Kafka, PostgreSQL and SMTP: a "new request" mail is
never dropped for want of a known Superuser, a withdrawal reaches whoever was told of
the request, a request's outcome is one mail, and a member hears of every change to
their membership they did not ask for."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.common import Address, Language, LocalisedName, RequestKind, RoleGrant
from eproc_contracts.events import (
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    OrganisationRegistered,
    RefusalReason,
    RequestApproved,
    RequestCompleted,
    RequestFailed,
    RequestOrphaned,
    RequestSubmitted,
    RequestWithdrawn,
    RevocationReason,
)
from eproc_contracts.roles import packaged_catalogue
from eproc_notifier.models import MailState, recipient
from eproc_notifier.models import organisation as organisation_table
from eproc_notifier.models import superuser as superuser_table
from eproc_notifier.settings import Settings
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import SmtpSink

from .conftest import (
    BUYER,
    OPERATORS,
    SUPERUSER,
    InProcessNotifier,
    Publish,
    html_part,
    mail_rows,
    maildir_count,
    received,
    text_part,
    user,
    wait_for_mails,
)

DOSSIER_MANAGER = RoleGrant(application="e-tendering", role="dossier-manager")
NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
Start = Callable[[Settings], Awaitable[InProcessNotifier]]


def organisation(names: LocalisedName) -> OrganisationRegistered:
    return OrganisationRegistered(
        organisation_id=uuid4(),
        parent_id=None,
        names=names,
        enterprise_number="0207451227",
        address=Address(
            street="Grote Markt", number="1", postcode="2000", municipality="Antwerpen"
        ),
    )


async def projected(
    sessions: async_sessionmaker[AsyncSession],
    *,
    recipients: int,
    organisations: int,
    superusers: int = 0,
) -> None:
    """Wait until the profiles, organisation names and Superusers published so far are
    projected: topics (and partitions) are not ordered with each other."""

    async def done() -> bool:
        async with sessions() as session:
            people = await session.scalar(select(func.count()).select_from(recipient))
            names = await session.scalar(select(func.count()).select_from(organisation_table))
            deciders = await session.scalar(select(func.count()).select_from(superuser_table))
        return (people, names, deciders) == (recipients, organisations, superusers)

    await eventually(done)


async def settle(sink: SmtpSink, count: int) -> list[EmailMessage]:
    """Exactly ``count`` mails: they arrived, and nothing more comes a little later."""
    await wait_for_mails(sink, count)
    await asyncio.sleep(1.0)
    assert maildir_count(sink) == count
    return received(sink)


async def test_a_new_request_waits_for_its_superuser_then_the_withdrawal_follows(
    notifier: InProcessNotifier,
    smtp_sink: SmtpSink,
    publish: Publish,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    superuser = user(Language.FR, "Sophie", "Martin")
    requester = user(Language.NL, "Jan", "Peeters")
    city = organisation(LocalisedName(nl="Stad Antwerpen", fr="Ville d'Anvers"))
    submitted = RequestSubmitted(
        request_id=uuid4(),
        kind=RequestKind.JOIN,
        requester_id=requester.user_id,
        organisation_id=city.organisation_id,
        roles=[DOSSIER_MANAGER],
        submitted_at=NOW,
    )
    await publish(superuser, requester, city)
    await projected(sessions, recipients=2, organisations=1)
    # The request overtakes the membership event that makes Sophie its Superuser.
    await publish(submitted)

    async def held() -> bool:
        return await mail_rows(sessions, state=MailState.AWAITING_SUPERUSER) == 1

    await eventually(held)
    assert maildir_count(smtp_sink) == 0

    await publish(
        MembershipGranted(
            user_id=superuser.user_id, organisation_id=city.organisation_id, roles=[SUPERUSER]
        )
    )
    [told] = await settle(smtp_sink, 1)
    assert told["To"] == superuser.email
    assert told["Subject"] == "Nouvelle demande d'adhésion pour Ville d'Anvers"
    assert "Jan Peeters" in text_part(told)
    assert packaged_catalogue().label(DOSSIER_MANAGER, "fr") in text_part(told)
    assert f"/superuser/requests/{submitted.request_id}" in html_part(told)
    assert await mail_rows(sessions, state=MailState.AWAITING_SUPERUSER) == 0

    # The requester withdraws: the Superuser who was told hears of it, in French.
    await publish(
        RequestWithdrawn(
            request_id=submitted.request_id,
            kind=RequestKind.JOIN,
            requester_id=requester.user_id,
            organisation_id=city.organisation_id,
            withdrawn_at=NOW,
        )
    )
    withdrawal = next(m for m in await settle(smtp_sink, 2) if m["Subject"] != told["Subject"])
    assert withdrawal["To"] == superuser.email
    assert withdrawal["Subject"] == (
        "Jan Peeters a retiré sa demande d'adhésion pour Ville d'Anvers"
    )
    assert "rien n'a été modifié" in text_part(withdrawal)


async def test_a_request_nobody_can_decide_goes_to_the_operators_once_after_the_wait(
    settings: Settings,
    smtp_sink: SmtpSink,
    publish: Publish,
    sessions: async_sessionmaker[AsyncSession],
    start_notifier: Start,
) -> None:
    await start_notifier(
        settings.model_copy(update={"superuser_wait_seconds": 1.0, "held_mail_interval": 0.2})
    )
    requester = user(Language.DE, "Dieter", "Schmitz")
    town = organisation(LocalisedName(nl="Gemeente Eupen", de="Gemeinde Eupen"))
    submitted = RequestSubmitted(
        request_id=uuid4(),
        kind=RequestKind.JOIN,
        requester_id=requester.user_id,
        organisation_id=town.organisation_id,
        roles=[BUYER],
        submitted_at=NOW,
    )
    await publish(requester, town)
    await projected(sessions, recipients=1, organisations=1)
    await publish(submitted)
    # Nobody becomes its Superuser: after the bounded wait, the operators are told.
    notices = await settle(smtp_sink, len(OPERATORS))
    assert sorted(str(m["To"]) for m in notices) == sorted(OPERATORS)
    for notice in notices:
        assert notice["Subject"] == "Request without Superuser: Gemeente Eupen"
        assert "Dieter Schmitz" in text_part(notice)
        assert "/operator/orphaned-requests" in html_part(notice)
    # The requests service flags it as orphaned too: the operators are not told twice.
    await publish(
        RequestOrphaned(
            request_id=submitted.request_id,
            kind=RequestKind.JOIN,
            requester_id=requester.user_id,
            organisation_id=town.organisation_id,
        )
    )
    await asyncio.sleep(1.0)
    assert maildir_count(smtp_sink) == len(OPERATORS)
    # A Superuser appointed later still gets the request.
    late = user(Language.NL, "Els", "Claes")
    await publish(
        late,
        MembershipGranted(
            user_id=late.user_id, organisation_id=town.organisation_id, roles=[SUPERUSER]
        ),
    )
    messages = await settle(smtp_sink, len(OPERATORS) + 1)
    [to_late] = [m for m in messages if m["To"] == late.email]
    assert to_late["Subject"] == "Nieuwe toetredingsaanvraag voor Gemeente Eupen"


async def test_a_request_outcome_is_one_mail(
    notifier: InProcessNotifier,
    smtp_sink: SmtpSink,
    publish: Publish,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A leave used to give two mails ("approved", then "you left"); an approval that
    then failed gave two contradictory ones. Now: one mail per outcome."""
    member = user(Language.NL, "An", "Jacobs")
    province = organisation(LocalisedName(nl="Provincie Limburg", fr="Province de Limbourg"))
    decided = {"requester_id": member.user_id, "organisation_id": province.organisation_id}
    leave = RequestApproved(
        request_id=uuid4(), kind=RequestKind.LEAVE, decided_by=uuid4(), decided_at=NOW, **decided
    )
    role_change = RequestApproved(
        request_id=uuid4(),
        kind=RequestKind.ROLE_CHANGE,
        roles=[SUPERUSER],
        decided_by=uuid4(),
        decided_at=NOW,
        **decided,
    )
    await publish(member, province)
    await projected(sessions, recipients=1, organisations=1)
    await publish(
        leave,
        RequestCompleted(
            request_id=leave.request_id, kind=RequestKind.LEAVE, completed_at=NOW, **decided
        ),
        role_change,
        RequestFailed(
            request_id=role_change.request_id,
            kind=RequestKind.ROLE_CHANGE,
            reason=RefusalReason.LAST_ROLE_HOLDER,
            failed_at=NOW,
            **decided,
        ),
    )
    messages = await settle(smtp_sink, 2)
    assert sorted(str(m["Subject"]) for m in messages) == [
        "U hebt Provincie Limburg verlaten",
        "Uw aanvraag tot wijziging van rollen voor Provincie Limburg kon niet worden uitgevoerd",
    ]
    [left] = [m for m in messages if "verlaten" in str(m["Subject"])]
    assert f"/my-requests/{leave.request_id}" in html_part(left)


async def test_a_member_hears_of_every_change_a_superuser_made(
    notifier: InProcessNotifier,
    smtp_sink: SmtpSink,
    publish: Publish,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    superuser = user(Language.NL, "Anna", "Peeters")
    member = user(Language.FR, "Bruno", "Lambert")
    ministry = organisation(LocalisedName(nl="FOD Financiën", fr="SPF Finances"))
    org = ministry.organisation_id
    await publish(
        superuser,
        member,
        ministry,
        MembershipGranted(user_id=superuser.user_id, organisation_id=org, roles=[SUPERUSER]),
    )
    await projected(sessions, recipients=2, organisations=1, superusers=1)
    operator = uuid4()
    await publish(
        # Asked for (a request of theirs), or not a Superuser's doing: no mail.
        MembershipGranted(
            user_id=member.user_id,
            organisation_id=org,
            roles=[BUYER],
            granted_by=operator,  # an operator's bootstrap, say
        ),
        MembershipRevoked(
            user_id=member.user_id,
            organisation_id=org,
            reason=RevocationReason.REMOVED,
            revoked_by=operator,
        ),
        MembershipGranted(
            user_id=member.user_id,
            organisation_id=org,
            roles=[BUYER],
            request_id=uuid4(),
            granted_by=superuser.user_id,
        ),
        # Not asked for: mailed to the member.
        MembershipRolesChanged(
            user_id=member.user_id,
            organisation_id=org,
            roles=[BUYER, DOSSIER_MANAGER],
            changed_by=superuser.user_id,
        ),
        MembershipRevoked(
            user_id=member.user_id,
            organisation_id=org,
            reason=RevocationReason.REMOVED,
            revoked_by=superuser.user_id,
        ),
        MembershipGranted(
            user_id=member.user_id,
            organisation_id=org,
            roles=[BUYER],
            granted_by=superuser.user_id,
        ),
    )
    messages = await settle(smtp_sink, 3)
    assert {str(m["To"]) for m in messages} == {member.email}
    by_subject = {str(m["Subject"]): m for m in messages}
    assert set(by_subject) == {
        "Vos rôles dans SPF Finances ont été modifiés",
        "Vous n'êtes plus membre de SPF Finances",
        "Vous avez été ajouté à SPF Finances",
    }
    changed = text_part(by_subject["Vos rôles dans SPF Finances ont été modifiés"])
    assert changed.startswith("Bonjour Bruno Lambert,")
    assert "Anna Peeters a modifié vos rôles" in changed
    assert packaged_catalogue().label(DOSSIER_MANAGER, "fr") in changed
    assert "dossier-manager" not in changed
    for message in messages:
        assert "/my-organisations" in html_part(message)
