"""Rendering: every mail in every language, the English fallback, escaping,
and Message-IDs that identify (event, recipient)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from jinja2 import DictLoader

from eproc_contracts.roles import packaged_catalogue
from eproc_notifier.mails import MailRenderer, build_message, message_id
from eproc_notifier.wording import LANGUAGES

KINDS = [
    "request_submitted",
    "request_approved",
    "request_rejected",
    "leave_completed",
    "request_failed",
    "request_reminder",
    "request_orphaned",
    "request_withdrawn",
    "member_added",
    "member_roles_changed",
    "member_removed",
]

FACTS: dict[str, Any] = {
    "request_id": "0193a1b2-0000-7000-8000-000000000001",
    "request_kind": "role_change",
    "requester_id": "0193a1b2-0000-7000-8000-000000000002",
    "organisation_id": None,
    "organisation_names": {"nl": "FOD Financiën", "fr": "SPF Finances"},
    "proposed_organisation_names": None,
    "requester_name": "Jan Janssens",
    "roles": [{"application": "e-tendering", "role": "dossier-manager"}],
    "actor_name": "Anna Peeters",
    "justification": "",
    "reason": "",
    "refusal_reason": "last_superuser",
    "detail": "",
    "reminder_number": 1,
    "waiting_since": "2026-11-20",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_every_language(kind: str, language: str) -> None:
    mail = MailRenderer().render(
        kind, language, FACTS, recipient_name="Els Claes", portal_url="https://eproc.example/"
    )
    assert mail.language == language
    assert mail.subject and "\n" not in mail.subject
    assert "Els Claes" in mail.text and "Els Claes" in mail.html
    assert "https://eproc.example/" in mail.text
    assert f'<html lang="{language}">' in mail.html
    assert "{{" not in mail.text
    # Names, never codes or ids (issue 19, point 5); the id is only in the link.
    assert "dossier-manager" not in mail.text and "dossier-manager" not in mail.html
    assert "0193a1b2" not in mail.text.split("https://eproc.example/")[0]
    link = next(line for line in mail.text.splitlines() if "https://eproc.example/" in line)
    assert link.split(": ", 1)[1] in mail.html


@pytest.mark.parametrize(
    ("language", "organisation"), [("nl", "FOD Financiën"), ("fr", "SPF Finances")]
)
def test_roles_and_organisations_are_named_in_the_readers_language(
    language: str, organisation: str
) -> None:
    role_name = packaged_catalogue().label(("e-tendering", "dossier-manager"), language)
    assert role_name.startswith("e-Tendering: ") and "dossier-manager" not in role_name
    mail = MailRenderer().render(
        "request_submitted", language, FACTS, recipient_name="Els", portal_url="https://x/"
    )
    assert f"- {role_name}" in mail.text
    assert role_name in mail.html
    assert organisation in mail.subject


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("request_submitted", "superuser/requests/0193a1b2-0000-7000-8000-000000000001"),
        ("request_withdrawn", "superuser/requests/0193a1b2-0000-7000-8000-000000000001"),
        ("request_approved", "my-requests/0193a1b2-0000-7000-8000-000000000001"),
        ("member_removed", "my-organisations"),
        ("request_orphaned", "operator/orphaned-requests"),
    ],
)
def test_each_mail_links_to_what_it_is_about(kind: str, path: str) -> None:
    mail = MailRenderer().render(
        kind, "nl", FACTS, recipient_name="Els", portal_url="https://eproc.example/"
    )
    assert f"https://eproc.example/{path}\n" in mail.text
    assert f'href="https://eproc.example/{path}"' in mail.html


def test_a_kind_missing_in_a_language_falls_back_to_english() -> None:
    loader = DictLoader(
        {
            "en/only_english.j2": "{% block subject %}Hello{% endblock %}"
            "{% block body %}Body for {{ requester }}{% endblock %}",
            "_layout.html.j2": "<p>{{ subject }}</p>",
        }
    )
    mail = MailRenderer(loader).render(
        "only_english", "de", FACTS, recipient_name=None, portal_url="https://x/"
    )
    assert mail.language == "en"
    assert mail.subject == "Hello"
    assert mail.text.startswith("Hello,\n\nBody for Jan Janssens")


def test_user_text_is_escaped_in_html_and_kept_in_text() -> None:
    facts = {**FACTS, "reason": '<script>alert("x")</script> & co'}
    mail = MailRenderer().render(
        "request_rejected", "nl", facts, recipient_name="A & B", portal_url="https://x/"
    )
    assert '<script>alert("x")</script> & co' in mail.text
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html and "A &amp; B" in mail.html


def test_message_id_is_stable_per_event_and_recipient() -> None:
    event, alice, bob = uuid4(), uuid4(), uuid4()
    first = message_id(event, str(alice), "n.example")
    assert first == message_id(event, str(alice), "n.example")
    assert first != message_id(event, str(bob), "n.example")
    assert first != message_id(uuid4(), str(alice), "n.example")
    assert first.startswith("<") and first.endswith("@n.example>")


def test_the_message_has_both_parts_and_the_headers() -> None:
    message = build_message(
        sender="e-Procurement <no-reply@x>",
        to="a@example.org",
        message_id="<abc@x>",
        language="fr",
        subject="Votre demande d'adhésion",
        text="Bonjour",
        html="<p>Bonjour</p>",
    )
    assert message["Message-ID"] == "<abc@x>"
    assert message["Content-Language"] == "fr"
    assert message["Auto-Submitted"] == "auto-generated"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
