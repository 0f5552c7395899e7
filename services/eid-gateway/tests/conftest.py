"""Fixtures: a real pcscd with vpcd, a session-wide development PKI, virtual cards."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eproc_eid_gateway import reader
from eproc_eid_gateway.pki import CardMaterial, DevPki, issue_demo_card
from eproc_eid_gateway.virtual_card import VirtualCard

REPO_ROOT = Path(__file__).resolve().parents[3]
PCSCD_SCRIPT = REPO_ROOT / "deploy" / "local" / "pcscd.sh"


@pytest.fixture(scope="session")
def pcscd() -> str:
    """Start pcscd with vpcd (installing it if needed); fail, never skip, without it.

    Returns the name of the vpcd reader on port 35963.
    """
    result = subprocess.run(
        ["bash", str(PCSCD_SCRIPT), "start"], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"pcscd could not be started:\n{result.stdout}{result.stderr}"
    names = sorted(name for name in reader.list_readers() if name.startswith("Virtual PCD"))
    assert names, "pcscd runs but shows no vpcd reader"
    return names[0]


@pytest.fixture(scope="session")
def pki() -> DevPki:
    """One TEST PKI for the whole session."""
    return DevPki.create()


@pytest.fixture(scope="session")
def card_factory(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Write a fresh card folder (PIN counter full) for a demo person and defects.

    Key generation is cached per (person, defects): each call only copies files.
    """
    cache: dict[tuple[object, ...], CardMaterial] = {}

    def make(person: str, **defects: object) -> Path:
        key = (person, *sorted(defects.items()))
        if key not in cache:
            cache[key] = issue_demo_card(pki, person, **defects)
        directory = tmp_path_factory.mktemp(f"card-{person}")
        cache[key].save(directory)
        return directory

    return make


class Slot:
    """The vpcd reader as a test sees it: insert, reinsert and remove virtual cards."""

    def __init__(self, reader_name: str) -> None:
        self.reader_name = reader_name
        self.cards: list[VirtualCard] = []
        self.sessions: list[reader.EidCard] = []

    def insert(self, card_dir: Path) -> tuple[VirtualCard, reader.EidCard]:
        """Insert the card in ``card_dir`` and open a reader session with it."""
        card = VirtualCard.from_directory(card_dir)
        card.insert()
        self.cards.append(card)
        return card, self._session()

    def reinsert(self, card: VirtualCard) -> reader.EidCard:
        """Remove ``card``, wait until pcscd noticed, insert it again, open a new session."""
        card.remove()
        reader.wait_for_removal(self.reader_name, timeout=10)
        card.insert()
        return self._session()

    def _session(self) -> reader.EidCard:
        session = reader.wait_for_card(self.reader_name, timeout=10)
        self.sessions.append(session)
        return session

    def clear(self) -> None:
        for session in self.sessions:
            session.close()
        for card in self.cards:
            card.remove()
        reader.wait_for_removal(self.reader_name, timeout=10)


@pytest.fixture
def slot(pcscd: str) -> Iterator[Slot]:
    """The vpcd reader; every card inserted in a test is removed after it."""
    current = Slot(pcscd)
    yield current
    current.clear()
