"""The helpdesk's contact page (SPEC §4, last paragraph): the platform's helpdesk,
its e-mail and postal address, from configuration. Every page's footer links here,
the SSO and eID pages' too (``eproc_page_shell.CONTACT_PATH``); no login needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from eproc_contracts.common import name_in_language
from eproc_page_shell import CONTACT_PATH
from eproc_portal import i18n
from eproc_portal.web import render, settings_of

router = APIRouter()


@router.get(CONTACT_PATH)
async def contact(request: Request) -> Response:
    settings = settings_of(request)
    language = i18n.current_language.get()
    address = settings.helpdesk_address
    lines = address.get(language) or next(
        (address[other] for other in i18n.LANGUAGES if address.get(other)), []
    )
    return render(
        request,
        "helpdesk.html",
        {
            "helpdesk": {
                "name": name_in_language(settings.helpdesk_name, language) or "",
                "email": settings.helpdesk_email,
                "address": lines,
            }
        },
    )
