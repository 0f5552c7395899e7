"""Every mail of the workflow reaches the right people in their language
(R-NOT-1, R-REQ-13, R-REQ-14), through real Kafka, PostgreSQL and SMTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from uuid import UUID, uuid4

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.common import (
    Address,
    Language,
    LocalisedName,
    RequestKind,
    RoleGrant,
)
from eproc_contracts.events import (
    MembershipGranted,
    MembershipRolesChanged,
    OrganisationRegistered,
    RefusalReason,
    RequestApproved,
    RequestCompleted,
    RequestFailed,
    RequestOrphaned,
    RequestRejected,
    RequestReminderDue,
    RequestSubmitted,
    RequestWithdrawn,
    UserRegistered,
)
from eproc_contracts.roles import packaged_catalogue
from eproc_notifier.mails import message_id
from eproc_notifier.models import MailState, superuser
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

PUBLISHER = RoleGrant(application="e-notification", role="publisher")
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


async def test_every_scenario_mails_the_right_people_in_their_language(
    settings: Settings,
    notifier: InProcessNotifier,
    smtp_sink: SmtpSink,
    publish: Publish,
    sessions: async_sessionmaker[AsyncSession],
) -> None:

    anna = user(Language.NL, "Anna", "Peeters")  # Superuser, Dutch
    bruno = user(Language.FR, "Bruno", "Lambert")  # Superuser, French
    requester = user(Language.DE, "Dieter", "Schmitz")  # German
    organisation_id = uuid4()
    await publish(
        anna,
        bruno,
        requester,
        OrganisationRegistered(
            organisation_id=organisation_id,
            parent_id=None,
            names=LocalisedName(nl="Stad Gent", fr="Ville de Gand", de="Stadt Gent"),
            enterprise_number="0207451227",
            address=Address(street="Botermarkt", number="1", postcode="9000", municipality="Gent"),
        ),
        MembershipGranted(user_id=anna.user_id, organisation_id=organisation_id, roles=[SUPERUSER]),
        MembershipGranted(
            user_id=bruno.user_id, organisation_id=organisation_id, roles=[BUYER, SUPERUSER]
        ),
    )

    async def superusers_known() -> bool:
        async with sessions() as session:
            count = await session.scalar(select(func.count()).select_from(superuser))
        return count == 2

    await eventually(superusers_known)

    base = {
        "requester_id": requester.user_id,
        "organisation_id": organisation_id,
    }
    submitted = RequestSubmitted(
        request_id=uuid4(),
        kind=RequestKind.JOIN,
        roles=[PUBLISHER],
        justification="Nieuwe aankoper",
        submitted_at=NOW,
        **base,
    )
    approved = RequestApproved(
        request_id=submitted.request_id,
        kind=RequestKind.JOIN,
        roles=[PUBLISHER],
        decided_by=anna.user_id,
        decided_at=NOW,
        **base,
    )
    rejected = RequestRejected(
        request_id=uuid4(),
        kind=RequestKind.ROLE_CHANGE,
        decided_by=bruno.user_id,
        decided_at=NOW,
        reason="Rolle nicht nötig <bitte>",
        **base,
    )
    leave_approved = RequestApproved(
        request_id=uuid4(), kind=RequestKind.LEAVE, decided_by=anna.user_id, decided_at=NOW, **base
    )
    leave_done = RequestCompleted(
        request_id=leave_approved.request_id, kind=RequestKind.LEAVE, completed_at=NOW, **base
    )
    join_done = RequestCompleted(
        request_id=submitted.request_id, kind=RequestKind.JOIN, completed_at=NOW, **base
    )
    failed = RequestFailed(
        request_id=uuid4(),
        kind=RequestKind.LEAVE,
        reason=RefusalReason.LINKED_DOSSIERS,
        detail="e-tendering: 2 dossiers",
        failed_at=NOW,
        **base,
    )
    reminder = RequestReminderDue(
        request_id=uuid4(),
        kind=RequestKind.JOIN,
        waiting_since=NOW - timedelta(days=4),
        reminder_number=1,
        **base,
    )
    orphaned = RequestOrphaned(request_id=uuid4(), kind=RequestKind.JOIN, **base)
    withdrawn = RequestWithdrawn(
        request_id=uuid4(), kind=RequestKind.JOIN, withdrawn_at=NOW, **base
    )
    envelopes = await publish(
        submitted,
        approved,
        rejected,
        leave_approved,
        leave_done,
        join_done,
        failed,
        reminder,
        orphaned,
        withdrawn,
    )
    by_payload = {id(e.data): e for e in envelopes}

    def expected_id(payload: object, recipient: UUID | str) -> str:
        return message_id(
            by_payload[id(payload)].event_id, str(recipient), settings.message_id_domain
        )

    # submitted: 2 Superusers; approved (once applied), rejected, the leave (one mail
    # for its approval and completion), failed: the requester; reminder: 2 Superusers;
    # orphaned: 2 operators. A withdrawal of a request nobody was told of mails nobody.
    messages = await wait_for_mails(smtp_sink, 10)
    await asyncio.sleep(1.0)  # anything extra would arrive now
    messages = received(smtp_sink)
    assert len(messages) == 10
    by_id = {str(m["Message-ID"]): m for m in messages}

    def mail(payload: object, recipient: UserRegistered | str) -> EmailMessage:
        key = recipient if isinstance(recipient, str) else recipient.user_id
        found = by_id[expected_id(payload, key)]
        assert found["To"] == (recipient if isinstance(recipient, str) else recipient.email)
        assert found.is_multipart()
        assert html_part(found).startswith("<!DOCTYPE html>")
        return found

    to_anna = mail(submitted, anna)
    assert to_anna["Content-Language"] == "nl"
    assert to_anna["Subject"] == "Nieuwe toetredingsaanvraag voor Stad Gent"
    assert "Dieter Schmitz" in text_part(to_anna)
    # Roles by their names in the reader's language, never their codes.
    assert f"- {packaged_catalogue().label(PUBLISHER, 'nl')}" in text_part(to_anna)
    assert "publisher" not in text_part(to_anna)
    assert f"https://eproc.example/superuser/requests/{submitted.request_id}" in html_part(to_anna)
    assert f"- {packaged_catalogue().label(PUBLISHER, 'fr')}" in text_part(mail(submitted, bruno))
    assert text_part(to_anna).startswith("Beste Anna Peeters,")
    to_bruno = mail(submitted, bruno)
    assert to_bruno["Content-Language"] == "fr"
    assert to_bruno["Subject"] == "Nouvelle demande d'adhésion pour Ville de Gand"

    assert mail(approved, requester)["Subject"] == (
        "Ihr Beitrittsantrag für Stadt Gent wurde genehmigt"
    )
    rejection = mail(rejected, requester)
    assert rejection["Content-Language"] == "de"
    assert "abgelehnt" in rejection["Subject"]
    assert "Rolle nicht nötig <bitte>" in text_part(rejection)
    assert "Rolle nicht nötig &lt;bitte&gt;" in html_part(rejection)
    assert mail(leave_approved, requester)["Subject"] == "Sie haben Stadt Gent verlassen"
    failure = mail(failed, requester)
    assert "nicht ausgeführt" in failure["Subject"]
    assert "mit Dossiers der Organisation verknüpft" in text_part(failure)
    assert "Herinnering" in mail(reminder, anna)["Subject"]
    assert "Rappel" in mail(reminder, bruno)["Subject"]
    assert "16/11/2026" in text_part(mail(reminder, bruno))  # as Belgian readers write it
    for operator in OPERATORS:
        notice = mail(orphaned, operator)
        assert notice["Content-Language"] == "en"
        assert notice["Subject"] == "Request without Superuser: Stad Gent"
    assert await mail_rows(sessions, state=MailState.SENT) == 10

    # Bruno is no longer a Superuser: the next reminder goes to Anna only.
    await publish(
        MembershipRolesChanged(
            user_id=bruno.user_id, organisation_id=organisation_id, roles=[BUYER]
        )
    )
    await eventually(lambda: _superuser_count(sessions, 1))
    second = RequestReminderDue(
        request_id=reminder.request_id,
        kind=RequestKind.JOIN,
        waiting_since=reminder.waiting_since,
        reminder_number=2,
        **base,
    )
    [envelope] = await publish(second)
    await wait_for_mails(smtp_sink, 11)
    await asyncio.sleep(0.5)
    assert maildir_count(smtp_sink) == 11
    last = {str(m["Message-ID"]): m for m in received(smtp_sink)}
    assert message_id(envelope.event_id, str(anna.user_id), settings.message_id_domain) in last


async def _superuser_count(sessions: async_sessionmaker[AsyncSession], expected: int) -> bool:
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(superuser))
    return count == expected


async def test_a_mail_waits_for_a_recipient_not_known_yet(
    settings: Settings,
    notifier: InProcessNotifier,
    smtp_sink: SmtpSink,
    publish: Publish,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A request event can overtake the requester's registration (other topic):
    the mail waits, then goes out in the language the registration gives."""
    late = user(Language.FR, "Chloé", "Dubois")
    [approval] = await publish(
        RequestRejected(
            request_id=uuid4(),
            kind=RequestKind.JOIN,
            requester_id=late.user_id,
            organisation_id=uuid4(),
            decided_by=uuid4(),
            decided_at=NOW,
        )
    )

    async def waiting() -> bool:
        return await mail_rows(sessions, state=MailState.AWAITING_RECIPIENT) == 1

    await eventually(waiting)
    assert maildir_count(smtp_sink) == 0

    await publish(late)
    [message] = await wait_for_mails(smtp_sink, 1)
    assert message["To"] == late.email
    assert message["Content-Language"] == "fr"
    assert message["Subject"].startswith("Votre demande d'adhésion")
    assert text_part(message).startswith("Bonjour Chloé Dubois,")
    assert message["Message-ID"] == message_id(
        approval.event_id, str(late.user_id), settings.message_id_domain
    )
