"""The runtime kit every service builds on: the business error and its one
handler, the portable upsert (PostgreSQL and SQLite), background jobs declared
to the app, and ``eventually``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import Column, Integer, String, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from eproc_runtime.app import DbSession, ServiceState, create_service_app
from eproc_runtime.auth import CurrentCaller
from eproc_runtime.db import create_engine, new_metadata, upsert
from eproc_runtime.errors import Conflict, NotFound, Unavailable, UseCaseError
from eproc_runtime.jobs import Job, running
from eproc_runtime.messaging import _log_brokers
from eproc_runtime.outbox import add_messaging_tables
from eproc_runtime.settings import ServiceSettings
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.tokens import TestIssuer

# --- UseCaseError and its handler --------------------------------------------------

app_metadata = new_metadata()
app_tables = add_messaging_tables(app_metadata)
thing_table = Table("thing", app_metadata, Column("name", String(40), primary_key=True))
router = APIRouter()


@router.get("/me")
async def me(caller: CurrentCaller) -> dict[str, str]:
    return {"user_id": str(caller.require_user())}


@router.get("/things/{name}")
async def thing(name: str, session: DbSession) -> dict[str, str]:
    await session.execute(thing_table.insert().values(name=name))
    if name == "missing":
        raise NotFound("thing_not_found", "No such thing.")
    if name == "taken":
        raise Conflict("name_taken", "This name is taken; choose another.", field="name", by=None)
    if name == "later":
        raise Unavailable("busy", "Try again in a moment.", headers={"Retry-After": "30"})
    if name == "teapot":
        raise UseCaseError(
            "teapot", "I am a teapot.", http_status=418, spout="short", status="brewing"
        )
    return {"name": name}


def _settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        service_name="kit",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/kit.db",
        bus="inprocess",
        bus_database_url=f"sqlite+aiosqlite:///{tmp_path}/bus.db",
        log_json=False,
    )


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Path]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/kit.db")
    async with engine.begin() as conn:
        await conn.run_sync(app_metadata.create_all)
    await engine.dispose()
    yield tmp_path
    for broker in _log_brokers.values():
        await broker.stop()
    _log_brokers.clear()


async def test_a_use_case_error_is_answered_with_its_status_code_and_sentence(
    database: Path,
) -> None:
    app = create_service_app(
        _settings(database), package="eproc_runtime", tables=app_tables, routers=[router]
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
            missing = await client.get("/things/missing")
            taken = await client.get("/things/taken")
            later = await client.get("/things/later")
            teapot = await client.get("/things/teapot")
            fine = await client.get("/things/fine")
        state: ServiceState = app.state.service
        async with state.sessions() as session:
            written = set(await session.scalars(select(thing_table.c.name)))
    assert missing.status_code == 404
    assert missing.json() == {"detail": {"code": "thing_not_found", "message": "No such thing."}}
    assert taken.status_code == 409
    assert taken.json()["detail"] == {
        "code": "name_taken",
        "message": "This name is taken; choose another.",
        "field": "name",
    }
    assert later.status_code == 503 and later.headers["retry-after"] == "30"
    assert teapot.status_code == 418
    assert teapot.json()["detail"] == {
        "code": "teapot",
        "message": "I am a teapot.",
        "spout": "short",
        "status": "brewing",
    }
    assert fine.status_code == 200
    # A refused command changed nothing: its unit of work rolled back.
    assert written == {"fine"}


async def test_only_a_person_passes_require_user_and_a_bad_token_is_401(database: Path) -> None:
    issuer = TestIssuer()
    app = create_service_app(
        _settings(database),
        package="eproc_runtime",
        tables=app_tables,
        routers=[router],
        token_verifier=issuer.verifier(),
    )
    person = uuid4()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:

            async def me(token: str) -> httpx.Response:
                return await client.get("/me", headers={"Authorization": f"Bearer {token}"})

            by_person = await me(issuer.user_token(person))
            by_application = await me(issuer.client_token("e-tendering"))
            by_stranger = await me(TestIssuer().user_token(person))
    assert by_person.json() == {"user_id": str(person)}
    assert by_application.status_code == 403
    assert by_application.json()["detail"]["code"] == "user_required"
    assert by_stranger.status_code == 401
    assert by_stranger.json()["detail"]["code"] == "invalid_token"


# --- upsert --------------------------------------------------------------------------

metadata = new_metadata()
word = Table(
    "word",
    metadata,
    Column("text", String(40), primary_key=True),
    Column("frequency", Integer, nullable=False),
    Column("note", String(40)),
)


@pytest.fixture(params=["postgresql", "sqlite"])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, create_database: CreateDatabase
) -> AsyncIterator[AsyncEngine]:
    if request.param == "postgresql":
        url = await create_database("upsert")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/upsert.db"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def _words(engine: AsyncEngine) -> dict[str, tuple[int, str | None]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(word))).all()
    return {r.text: (r.frequency, r.note) for r in rows}


async def test_upsert_inserts_then_updates_or_leaves_alone(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        row = {"text": "tender", "frequency": 1, "note": "first"}
        await conn.execute(upsert(conn, word, row, keys=["text"], update=["frequency", "note"]))
        # The same key again: the listed columns take the new row's values.
        again = {"text": "tender", "frequency": 5, "note": "second"}
        await conn.execute(upsert(conn, word, again, keys=["text"], update=["frequency", "note"]))
        # DO NOTHING: the existing row stays as it is.
        ignored = {"text": "tender", "frequency": 99, "note": "ignored"}
        await conn.execute(upsert(conn, word, ignored, keys=["text"]))
        await conn.execute(upsert(conn, word, ignored))
    assert await _words(engine) == {"tender": (5, "second")}


async def test_upsert_updates_with_expressions_over_many_rows(engine: AsyncEngine) -> None:
    rows = [{"text": t, "frequency": 2, "note": None} for t in ("lot", "bid")]
    async with engine.begin() as conn:
        await conn.execute(upsert(conn, word, keys=["text"], update=["frequency"]), rows)
        # A mapping of expressions on the stored row ...
        bump = {"frequency": word.c.frequency + 1}
        await conn.execute(upsert(conn, word, keys=["text"], update=bump), rows[:1])
        # ... or a function of the refused row (``excluded``).
        add = upsert(
            conn,
            word,
            keys=["text"],
            update=lambda excluded: {"frequency": word.c.frequency + excluded.frequency},
        )
        await conn.execute(add, [{"text": "bid", "frequency": 10}, {"text": "new", "frequency": 7}])
    assert await _words(engine) == {"lot": (3, None), "bid": (12, None), "new": (7, None)}


def test_an_updating_upsert_needs_its_keys() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    with pytest.raises(ValueError, match="key columns"):
        upsert(engine, word, {"text": "x", "frequency": 1}, update=["frequency"])


# --- background jobs -------------------------------------------------------------------


class Ticker:
    """A job that counts until stopped, finishing its tick when asked to stop."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.ticks = 0
        self.finished = False
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            self.ticks += 1
            await asyncio.sleep(0.01)
        self.finished = True

    def stop(self) -> None:
        self._stop.set()


async def test_declared_jobs_run_while_the_service_runs_and_stop_with_it(database: Path) -> None:
    app = create_service_app(
        _settings(database),
        package="eproc_runtime",
        tables=app_tables,
        jobs=[Job("ticker", Ticker)],
    )
    async with app.router.lifespan_context(app):
        state: ServiceState = app.state.service
        ticker = state.jobs["ticker"]
        assert isinstance(ticker, Ticker) and ticker.state is state
        assert "ticker" in {t.get_name() for t in asyncio.all_tasks()}
        await eventually(lambda: ticker.ticks >= 3, timeout=10, what="three ticks")
    assert ticker.finished
    assert "ticker" not in {t.get_name() for t in asyncio.all_tasks() if not t.done()}


class Stubborn:
    """A job that ignores ``stop``."""

    async def run(self) -> None:
        await asyncio.Event().wait()

    def stop(self) -> None:
        pass


async def test_a_job_that_does_not_stop_is_cancelled() -> None:
    stubborn = Stubborn()
    started = time.monotonic()
    async with running([("stubborn", stubborn)], stop_timeout=0.2):
        await asyncio.sleep(0)
    assert time.monotonic() - started < 5
    assert "stubborn" not in {t.get_name() for t in asyncio.all_tasks() if not t.done()}


# --- eventually ----------------------------------------------------------------------


async def test_eventually_returns_the_first_truthy_value() -> None:
    calls = []

    async def grows() -> list[int]:
        calls.append(1)
        return calls if len(calls) >= 3 else []

    assert await eventually(grows, interval=0.01) == [1, 1, 1]
    assert await eventually(lambda: "ready", interval=0.01) == "ready"


async def test_eventually_gives_up_naming_what_it_waited_for() -> None:
    with pytest.raises(AssertionError, match=r"waiting for the mail \(last seen: 0\)"):
        await eventually(lambda: 0, timeout=0.1, interval=0.01, what="the mail")


async def test_eventually_retries_an_assertion_and_reraises_the_last() -> None:
    seen = []

    def check() -> bool:
        seen.append(len(seen))
        assert len(seen) > 100_000, f"only {len(seen)} tries"
        return True

    with pytest.raises(AssertionError, match="only"):
        await eventually(check, timeout=0.1, interval=0.01)
    assert len(seen) > 1
