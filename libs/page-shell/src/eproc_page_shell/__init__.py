"""The one look of every page a person sees: the portal's, the SSO edge's, the
eID gateway's and the demo applications' (R-I18N-1).

* :data:`STATIC_DIR` holds the stylesheet (``eproc.css``); each service serves it
  under its own ``/static`` so that a strict ``style-src 'self'`` holds;
* :func:`environment` gives a Jinja2 environment whose templates can extend
  ``frame.html`` (top bar, language switch, skip link, footer);
* :func:`contact_url` is the portal's helpdesk page every footer links to;
* :func:`choose_language` is the one rule for a page's language: the language the
  user chose in the portal (the ``eproc_lang`` cookie), then the relying party's
  ``ui_locales``, then ``Accept-Language``, then Dutch.
"""

from __future__ import annotations

from eproc_page_shell.frame import (
    CONTACT_PATH,
    STATIC_DIR,
    STYLESHEET,
    contact_url,
    environment,
    frame_texts,
)
from eproc_page_shell.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    choose_language,
    negotiate,
)

__all__ = [
    "CONTACT_PATH",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "LANGUAGE_NAMES",
    "STATIC_DIR",
    "STYLESHEET",
    "choose_language",
    "contact_url",
    "environment",
    "frame_texts",
    "negotiate",
]
