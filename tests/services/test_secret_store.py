"""The built-in secret store on a real migrated SQLite file: the master key (file or
environment), AES-GCM bound to its row, the ``langorch`` provider (project first, then
global; cache and invalidation; last use), and master-key rotation (``langorch secrets
rotate-key``)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from langorch.ckp.ir import SecretRef
from langorch.connectors.secrets import EnvSecrets, RoutingSecrets
from langorch.runtime.errors import StepError
from langorch.services import secret_store as store
from langorch.services.secret_keys import encrypt_value
from langorch.services.secret_providers import LazyStoreSecrets, build_secrets
from langorch.services.secret_store import (
    MASTER_KEY_ENV,
    KeyRing,
    MasterKey,
    MasterKeyError,
    StoreSecrets,
    rotate_master_key,
)
from langorch.settings import SecretsSettings
from langorch.store.db import make_engine, make_sessionmaker
from langorch.store.migrations import upgrade
from langorch.store.models import Project, Run, StoredSecret

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets-db") / "langorch.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db_url(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "langorch.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest_asyncio.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
def settings(tmp_path: Path) -> SecretsSettings:
    return SecretsSettings(key_file=str(tmp_path / "keys" / "secret.key"))


@pytest.fixture
def ring(settings: SecretsSettings) -> KeyRing:
    return KeyRing(settings, environ={})


def _ref(key: str = "crm_token") -> SecretRef:
    return SecretRef(name="crm", provider="langorch", key=key)


async def _secret(sessions: async_sessionmaker[AsyncSession], ring: KeyRing, name: str, value: str,
                  project: str | None = None) -> StoredSecret:
    async with sessions() as session:
        if project is not None and await session.get(Project, project) is None:
            session.add(Project(id=project, name=project))
            await session.commit()
        return await store.create(session, ring, name=name, value=value, project_id=project)


async def _run(sessions: async_sessionmaker[AsyncSession], run_id: str, project: str | None) -> None:
    async with sessions() as session:
        if project is not None and await session.get(Project, project) is None:
            session.add(Project(id=project, name=project))
        session.add(Run(run_id=run_id, procedure_id="p", procedure_version="1", ir_hash="x" * 64, thread_id=run_id,
                        status="running", project_id=project))
        await session.commit()


async def _row(sessions: async_sessionmaker[AsyncSession], name: str) -> StoredSecret:
    async with sessions() as session:
        return (await session.execute(select(StoredSecret).where(StoredSecret.name == name))).scalars().one()


# -- the master key ----------------------------------------------------------------------------


def test_the_key_file_is_created_on_first_use_readable_by_its_owner_only(
        ring: KeyRing, settings: SecretsSettings) -> None:
    path = Path(settings.key_file)
    assert not path.exists()

    key = ring.current()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKey.parse(path.read_text(), "file") == MasterKey(key.key, "file")
    assert KeyRing(settings, environ={}).current().fingerprint == key.fingerprint  # the same key next start


def test_the_environment_key_wins_and_writes_no_file(settings: SecretsSettings) -> None:
    key = MasterKey.generate("env")
    ring = KeyRing(settings, environ={MASTER_KEY_ENV: key.text()})

    assert ring.current().fingerprint == key.fingerprint
    assert not Path(settings.key_file).exists()


@pytest.mark.parametrize("text", ["   ", "not base64!", "c2hvcnQ=", MasterKey.generate("x").text() + "AAAA"])
def test_a_malformed_master_key_is_refused_without_showing_it(settings: SecretsSettings, text: str) -> None:
    with pytest.raises(MasterKeyError) as caught:
        KeyRing(settings, environ={MASTER_KEY_ENV: text}).current()

    assert MASTER_KEY_ENV in caught.value.message
    assert text.strip() not in caught.value.message or not text.strip()


def test_a_ciphertext_only_opens_on_its_own_row(ring: KeyRing) -> None:
    ciphertext, fingerprint = ring.seal("", "a", 1, "value-a")
    row = StoredSecret(scope="", name="a", version=1, ciphertext=ciphertext, key_fingerprint=fingerprint)
    assert ring.open(row) == "value-a"

    for scope, name, version in (("proj", "a", 1), ("", "b", 1), ("", "a", 2)):
        moved = StoredSecret(scope=scope, name=name, version=version, ciphertext=ciphertext,
                             key_fingerprint=fingerprint)
        with pytest.raises(MasterKeyError, match="altered or moved"):
            ring.open(moved)


def test_a_row_of_an_unknown_key_names_the_fix(ring: KeyRing, settings: SecretsSettings) -> None:
    other = KeyRing(settings.model_copy(update={"key_file": settings.key_file + ".other"}), environ={})
    ciphertext, fingerprint = other.seal("", "a", 1, "v")
    row = StoredSecret(scope="", name="a", version=1, ciphertext=ciphertext, key_fingerprint=fingerprint)

    with pytest.raises(MasterKeyError, match=MASTER_KEY_ENV):
        ring.open(row)


# -- the provider -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_runs_project_secret_shadows_the_global_one(
        sessions: async_sessionmaker[AsyncSession], ring: KeyRing) -> None:
    await _secret(sessions, ring, "crm_token", "global-1")
    await _secret(sessions, ring, "crm_token", "project-1", project="p1")
    await _run(sessions, "in-p1", "p1")
    await _run(sessions, "in-p2", "p2-without-secrets")
    await _run(sessions, "no-project", None)
    provider = StoreSecrets(sessions, ring)

    assert await provider.get(_ref(), run_id="in-p1") == "project-1"
    assert await provider.get(_ref(), run_id="in-p2") == "global-1"
    assert await provider.get(_ref(), run_id="no-project") == "global-1"
    assert await provider.get(_ref()) == "global-1"


@pytest.mark.asyncio
async def test_a_missing_secret_is_not_found_and_a_json_field_is_selectable(
        sessions: async_sessionmaker[AsyncSession], ring: KeyRing) -> None:
    await _secret(sessions, ring, "db", '{"user": "svc", "password": "pw-9"}')
    provider = StoreSecrets(sessions, ring)

    assert await provider.get(_ref("db#password")) == "pw-9"
    with pytest.raises(StepError) as caught:
        await provider.get(_ref("absent"))
    assert (caught.value.error_type, caught.value.retryable) == ("SecretNotFound", False)
    assert "absent" in caught.value.message


@pytest.mark.asyncio
async def test_reading_records_the_last_use_and_leaves_updated_at(
        sessions: async_sessionmaker[AsyncSession], ring: KeyRing) -> None:
    created = await _secret(sessions, ring, "crm_token", "v1")

    assert await StoreSecrets(sessions, ring).get(_ref()) == "v1"

    row = await _row(sessions, "crm_token")
    assert row.last_used_at is not None
    assert row.updated_at == created.updated_at


@pytest.mark.asyncio
async def test_a_rotation_through_the_store_is_read_at_once_despite_the_cache(
        sessions: async_sessionmaker[AsyncSession], ring: KeyRing) -> None:
    created = await _secret(sessions, ring, "crm_token", "v1")
    provider = RoutingSecrets({"langorch": StoreSecrets(sessions, ring, cache_ttl_s=3600)})
    assert await provider.get(_ref()) == "v1"

    async with sessions() as session:
        await store.update(session, ring, created.secret_id, {"value": "v2"})
    assert await provider.get(_ref()) == "v2"

    async with sessions() as session:
        await store.delete(session, created.secret_id)
    with pytest.raises(StepError, match="no secret named"):
        await provider.get(_ref())


@pytest.mark.asyncio
async def test_a_change_made_by_another_process_is_read_after_the_ttl(
        sessions: async_sessionmaker[AsyncSession], ring: KeyRing) -> None:
    created = await _secret(sessions, ring, "crm_token", "v1")
    clock = Clock()
    provider = StoreSecrets(sessions, ring, cache_ttl_s=60, clock=clock)
    assert await provider.get(_ref()) == "v1"
    # another process rotates it: this process's caches hear nothing
    async with sessions() as session:
        row = await session.get(StoredSecret, created.secret_id)
        assert row is not None
        row.version = 2
        row.ciphertext, row.key_fingerprint = ring.seal("", "crm_token", 2, "v2")
        await session.commit()

    clock.now += 59
    assert await provider.get(_ref()) == "v1"
    clock.now += 2
    assert await provider.get(_ref()) == "v2"


@pytest.mark.asyncio
async def test_the_builtin_alias_routes_to_the_store(sessions: async_sessionmaker[AsyncSession],
                                                   ring: KeyRing) -> None:
    await _secret(sessions, ring, "crm_token", "v1")
    routing = RoutingSecrets({"langorch": StoreSecrets(sessions, ring), "env_vars": EnvSecrets({})})

    assert await routing.get(SecretRef("crm", "builtin", "crm_token")) == "v1"


@pytest.mark.asyncio
async def test_langorch_run_reads_global_secrets_from_the_configured_database(
        db_url: str, sessions: async_sessionmaker[AsyncSession], ring: KeyRing, settings: SecretsSettings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANGORCH_SECRET_KEY", raising=False)  # the key file of `ring`, as langorch run reads it
    await _secret(sessions, ring, "crm_token", "global-1")
    await _secret(sessions, ring, "crm_token", "project-1", project="p1")
    async with AsyncExitStack() as stack:
        routing = build_secrets(settings, LazyStoreSecrets(db_url, settings, stack))

        assert await routing.get(SecretRef("crm", "langorch", "crm_token"), run_id="cli-run") == "global-1"


# -- rotating the master key --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rotating_the_key_file_reencrypts_every_row_and_keeps_the_old_key_aside(
        db_url: str, sessions: async_sessionmaker[AsyncSession], ring: KeyRing, settings: SecretsSettings) -> None:
    await _secret(sessions, ring, "a", "value-a")
    await _secret(sessions, ring, "a", "value-a-project", project="p1")
    old = ring.current()

    report = await rotate_master_key(db_url, settings, environ={})

    assert "re-encrypted 2 secret(s)" in report
    new = KeyRing(settings, environ={}).current()
    assert new.fingerprint != old.fingerprint
    assert MasterKey.parse(Path(settings.key_file + ".previous").read_text(), "f").key == old.key
    assert stat.S_IMODE(Path(settings.key_file).stat().st_mode) == 0o600
    assert not Path(settings.key_file + ".new").exists()
    async with sessions() as session:
        rows = list((await session.execute(select(StoredSecret))).scalars())
    assert {row.key_fingerprint for row in rows} == {new.fingerprint}
    only_new = KeyRing(settings.model_copy(update={"key_file": settings.key_file + ".copy"}), environ={})
    Path(settings.key_file + ".copy").write_text(new.text())
    assert sorted(only_new.open(row) for row in rows) == ["value-a", "value-a-project"]
    # a running server's ring notices the new file and writes under the new key
    assert ring.current().fingerprint == new.fingerprint


@pytest.mark.asyncio
async def test_rotating_an_environment_key_needs_the_new_key_and_reencrypts_under_it(
        db_url: str, sessions: async_sessionmaker[AsyncSession], settings: SecretsSettings) -> None:
    old, new = MasterKey.generate("old"), MasterKey.generate("new")
    ring = KeyRing(settings, environ={MASTER_KEY_ENV: old.text()})
    await _secret(sessions, ring, "a", "value-a")

    with pytest.raises(MasterKeyError, match="LANGORCH_SECRET_KEY_NEW"):
        await rotate_master_key(db_url, settings, environ={MASTER_KEY_ENV: old.text()})
    report = await rotate_master_key(db_url, settings, environ={MASTER_KEY_ENV: old.text(),
                                                                "LANGORCH_SECRET_KEY_NEW": new.text()})

    assert "re-encrypted 1 secret(s)" in report
    row = await _row(sessions, "a")
    assert row.key_fingerprint == new.fingerprint
    assert KeyRing(settings, environ={MASTER_KEY_ENV: new.text()}).open(row) == "value-a"
    with pytest.raises(MasterKeyError):
        ring.open(row)  # the old key alone no longer reads it


@pytest.mark.asyncio
async def test_a_row_no_key_reads_stops_the_rotation_before_anything_changes(
        db_url: str, sessions: async_sessionmaker[AsyncSession], ring: KeyRing, settings: SecretsSettings) -> None:
    await _secret(sessions, ring, "a", "value-a")
    stranger = MasterKey.generate("lost")
    async with sessions() as session:
        session.add(StoredSecret(scope="", name="lost", version=1, key_fingerprint=stranger.fingerprint,
                                 ciphertext=encrypt_value(stranger, "", "lost", 1, "x")))
        await session.commit()
    before = Path(settings.key_file).read_text()

    with pytest.raises(MasterKeyError, match="'lost'"):
        await rotate_master_key(db_url, settings, environ={})

    assert Path(settings.key_file).read_text() == before
    assert not Path(settings.key_file + ".new").exists()
    assert (await _row(sessions, "a")).key_fingerprint == ring.current().fingerprint


def test_langorch_secrets_rotate_key_runs_against_the_configured_database(db_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANGORCH_")}
    env.update(LANGORCH_DB__URL=db_url, LANGORCH_SECRETS__KEY_FILE=str(tmp_path / "cli.key"))
    command = [sys.executable, "-m", "langorch.cli", "secrets", "rotate-key"]

    first = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "re-encrypted 0 secret(s)" in first.stderr
    assert (tmp_path / "cli.key").exists() and (tmp_path / "cli.key.previous").exists()

    env.update(LANGORCH_DB__URL=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
               LANGORCH_SECRETS__KEY_FILE=str(tmp_path / "unused.key"))
    unmigrated = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert unmigrated.returncode == 2
    assert "langorch migrate" in unmigrated.stderr and "Traceback" not in unmigrated.stderr
    assert not (tmp_path / "unused.key").exists()

    env.update(LANGORCH_DB__URL=db_url)
    env[MASTER_KEY_ENV] = MasterKey.generate("x").text()
    refused = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "LANGORCH_SECRET_KEY_NEW" in refused.stderr
    assert env[MASTER_KEY_ENV] not in refused.stderr + refused.stdout
