"""Keeping the ``.po`` catalogues in step with the code and templates.

``python -m eproc_portal.catalogues`` extracts every translatable string and
adds the new ones (untranslated) to each language's catalogue, dropping the
ones no longer used; the translations themselves are written by hand. The
tests use :func:`missing_translations` to fail on any gap.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from eproc_portal.i18n import LANGUAGES, catalogue_path

PACKAGE = Path(__file__).parent
PROJECT = PACKAGE.parent.parent

METHOD_MAP = [
    ("src/eproc_portal/**.py", "python"),
    ("src/eproc_portal/templates/**.html", "jinja2"),
]
OPTIONS = {
    "src/eproc_portal/templates/**.html": {
        "extensions": "jinja2.ext.i18n",
        "trim_blocks": "true",
        "lstrip_blocks": "true",
    }
}


def extract() -> Catalog:
    """Every msgid used by the portal's code and templates."""
    template = Catalog(project="eproc-portal", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PROJECT), METHOD_MAP, OPTIONS, strip_comment_tags=True
    ):
        if message:
            template.add(
                message, None, [(filename, lineno)], auto_comments=comments, context=context
            )
    return template


def load(language: str) -> Catalog:
    with (PACKAGE / catalogue_path(language)).open("rb") as po:
        return read_po(po, locale=language)


def missing_translations() -> dict[str, list[str]]:
    """Per language, the msgids without a (non-fuzzy) translation."""
    template = extract()
    gaps: dict[str, list[str]] = {}
    for language in LANGUAGES:
        catalogue = load(language)
        missing = []
        for message in template:
            if not message.id:
                continue
            found = catalogue.get(message.id, message.context)
            strings = found.string if found else None
            values = strings if isinstance(strings, tuple | list) else [strings]
            if found is None or found.fuzzy or not all(values):
                missing.append(message.id if isinstance(message.id, str) else message.id[0])
        if missing:
            gaps[language] = missing
    return gaps


def update() -> None:
    template = extract()
    for language in LANGUAGES:
        path = PACKAGE / catalogue_path(language)
        if path.exists():
            catalogue = load(language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalogue = Catalog(locale=language, project="eproc-portal")
        catalogue.update(template, no_fuzzy_matching=True)
        catalogue.obsolete.clear()
        catalogue.fuzzy = False
        with path.open("wb") as po:
            write_po(po, catalogue, width=100, omit_header=False, sort_output=False)


if __name__ == "__main__":
    update()
    gaps = missing_translations()
    for language, ids in gaps.items():
        print(f"{language}: {len(ids)} untranslated", file=sys.stderr)
