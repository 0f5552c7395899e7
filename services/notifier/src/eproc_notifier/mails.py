"""Renders a mail in its recipient's language from the Jinja2 templates.

Each ``templates/<language>/<kind>.j2`` defines two blocks: ``subject`` and
``body`` (plain-text paragraphs separated by blank lines). The text part is the
body in a frame (greeting, link, footer); the HTML part puts the same
paragraphs, escaped, in ``templates/_layout.html.j2``. A kind missing in a
language falls back to English. Templates get language-neutral facts from the
event (``context``, stored with the mail) plus words localised here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from jinja2 import BaseLoader, Environment, PackageLoader, StrictUndefined

from eproc_contracts.common import name_in_language
from eproc_contracts.roles import RoleCatalogue, packaged_catalogue
from eproc_notifier.wording import (
    DATE_FORMAT,
    FALLBACK_LANGUAGE,
    FRAME,
    REFUSAL_REASON,
    REQUEST_KIND,
    word,
)

# Where each mail leads in the portal (R-I18N-1: a link, never an id in the text), and
# the words of the link (``FRAME``). Operators decide top-level registrations on the
# request's page too; orphans are listed on their own page.
LINKS: dict[str, tuple[str, str]] = {
    "request_submitted": ("superuser/requests/{request_id}", "decide_request"),
    "request_reminder": ("superuser/requests/{request_id}", "decide_request"),
    "request_withdrawn": ("superuser/requests/{request_id}", "view_request"),
    "request_orphaned": ("operator/orphaned-requests", "view_orphaned"),
    "request_approved": ("my-requests/{request_id}", "view_request"),
    "request_rejected": ("my-requests/{request_id}", "view_request"),
    "request_failed": ("my-requests/{request_id}", "view_request"),
    "leave_completed": ("my-requests/{request_id}", "view_request"),
    "member_added": ("my-organisations", "my_organisations"),
    "member_roles_changed": ("my-organisations", "my_organisations"),
    "member_removed": ("my-organisations", "my_organisations"),
}

# A password reset mail is stored with this in place of its link's token, and the
# token sealed in its context: the token is in clear only in the message handed to
# the SMTP server (R-PWD-1, docs/security.md "Password reset links").
TOKEN_SLOT = "RESET-TOKEN-SLOT"  # noqa: S105 - a placeholder, not a secret


def reset_link(token_issuer: str, language: str) -> str:
    """The edge's page that sets a new password, in ``language``, token slot included."""
    return f"{token_issuer.rstrip('/')}/login/reset?lang={language}&token={TOKEN_SLOT}"


# Message-IDs are uuid5(namespace, "<event id>/<recipient>"): the same event
# mailed to the same person always carries the same id, whoever renders it.
MESSAGE_ID_NAMESPACE = uuid.UUID("6f1c1e0a-5d0b-4c58-9a53-0d7c2b1f6e11")


def message_id(event_id: uuid.UUID, recipient_key: str, domain: str) -> str:
    """The Message-ID of the mail about ``event_id`` to ``recipient_key`` (user id or address)."""
    return f"<{uuid.uuid5(MESSAGE_ID_NAMESPACE, f'{event_id}/{recipient_key}')}@{domain}>"


@dataclass(frozen=True)
class RenderedMail:
    language: str
    subject: str
    text: str
    html: str


class MailRenderer:
    def __init__(
        self, loader: BaseLoader | None = None, catalogue: RoleCatalogue | None = None
    ) -> None:
        self.catalogue = catalogue or packaged_catalogue()
        loader = loader or PackageLoader("eproc_notifier", "templates")
        # The plain-text part must not be HTML-escaped; the HTML part is built
        # from its output by the autoescaping environment below.
        self._text = Environment(
            loader=loader,
            autoescape=False,  # noqa: S701 - text/plain; the HTML part escapes its output
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=StrictUndefined,
        )
        self._html = Environment(loader=loader, autoescape=True, undefined=StrictUndefined)

    def render(
        self,
        kind: str,
        language: str,
        context: dict[str, Any],
        *,
        recipient_name: str | None,
        portal_url: str,
        to_operator: bool = False,
        link: tuple[str, str] | None = None,
    ) -> RenderedMail:
        """Subject, text and HTML of mail ``kind`` in ``language`` (English if missing),
        with a link to what it is about in the portal, or ``link`` (URL, the key of
        its words in ``FRAME``) elsewhere."""
        template = self._text.select_template([f"{language}/{kind}.j2", f"en/{kind}.j2"])
        used = (template.name or "").split("/", 1)[0] or FALLBACK_LANGUAGE
        path, link_word = LINKS.get(kind, ("", "open_portal"))
        if to_operator and kind == "request_orphaned":
            path = "operator/orphaned-requests"
        link_url = portal_url.rstrip("/") + "/" + path.format(request_id=context.get("request_id"))
        if link is not None:
            link_url, link_word = link
        variables = {**context, **self._localised(used, context), "portal_url": portal_url}
        block_context = template.new_context(variables)
        subject = " ".join("".join(template.blocks["subject"](block_context)).split())
        body = "".join(template.blocks["body"](block_context)).strip()
        paragraphs = [
            [line.strip() for line in chunk.splitlines() if line.strip()]
            for chunk in re.split(r"\n\s*\n", body)
            if chunk.strip()
        ]
        greeting = (
            word(FRAME, used, "greeting").format(name=recipient_name)
            if recipient_name
            else word(FRAME, used, "greeting_anonymous")
        )
        link_label = word(FRAME, used, link_word)
        footer = word(FRAME, used, "footer")
        text = "\n\n".join(
            [
                greeting,
                *("\n".join(lines) for lines in paragraphs),
                f"{link_label}: {link_url}",
                f"-- \n{footer}",
            ]
        )
        html = self._html.get_template("_layout.html.j2").render(
            language=used,
            subject=subject,
            greeting=greeting,
            paragraphs=paragraphs,
            link_url=link_url,
            link_label=link_label,
            footer=footer,
        )
        return RenderedMail(language=used, subject=subject, text=text + "\n", html=html)

    def _localised(self, language: str, context: dict[str, Any]) -> dict[str, Any]:
        organisation = name_in_language(context.get("organisation_names"), language)
        proposed = name_in_language(context.get("proposed_organisation_names"), language)
        reason = context.get("refusal_reason")
        waiting_since = context.get("waiting_since")
        return {
            "kind_label": word(REQUEST_KIND, language, context.get("request_kind", "")),
            "organisation_name": organisation or word(FRAME, language, "unknown_organisation"),
            "proposed_organisation_name": proposed,
            "requester": context.get("requester_name") or word(FRAME, language, "someone"),
            "actor": context.get("actor_name") or word(FRAME, language, "a_superuser"),
            "refusal_text": word(REFUSAL_REASON, language, reason) if reason else None,
            # Roles by their names in the reader's language (R-ROLE-3), never their codes.
            "roles": [self._role(role, language) for role in context.get("roles") or []],
            "waiting_since": (
                datetime.fromisoformat(waiting_since).strftime(DATE_FORMAT[language])
                if waiting_since
                else None
            ),
        }

    def _role(self, role: Any, language: str) -> str:
        if isinstance(role, dict):
            return self.catalogue.label((role["application"], role["role"]), language)
        return str(role)  # a mail queued before roles were stored as codes


def build_message(
    *,
    sender: str,
    to: str,
    message_id: str,
    language: str,
    subject: str,
    text: str,
    html: str,
    date: datetime | None = None,
) -> EmailMessage:
    """The MIME message: text and HTML alternatives, with our Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(date or datetime.now(UTC))
    # RFC 3834: tells auto-responders not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # After the content: set_content() drops every Content-* header set before.
    message["Content-Language"] = language
    return message
