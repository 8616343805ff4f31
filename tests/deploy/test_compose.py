"""``deploy/compose.yaml``, ``deploy/Dockerfile`` and ``deploy/env.example`` checked without
Docker (there is none where the tests run): the compose file parses; every command in it
is one the CLI accepts and the same as the Procfile's (which tests/deploy/test_procfile.py
runs for real); every ``LANGORCH_*`` name is a real setting; the values compose requires are
the ones env.example lists, and its placeholders are refused at start-up; the files the
Dockerfile copies exist, and the layout it builds lets ``langorch migrate`` find its
migrations and the API find the UI."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from langorch.auth.keyfile import signing_key
from langorch.auth.passwords import password_problem
from langorch.cli import build_parser
from langorch.services.secret_keys import MASTER_KEY_ENV, NEW_KEY_ENV, PREVIOUS_KEY_ENV, MasterKey, MasterKeyError
from langorch.settings import AuthSettings, Settings
from tests.deploy.support import DEPLOY, REPO, procfile

COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
LANGORCH_SERVICES = ("migrate", "api", "worker")


def setting_names() -> set[str]:
    """Every environment variable Settings reads (``LANGORCH_<FIELD>`` or ``LANGORCH_<GROUP>__<FIELD>``),
    and the secret store's key variables, which are read outside Settings."""
    names = {MASTER_KEY_ENV, PREVIOUS_KEY_ENV, NEW_KEY_ENV}
    for group, field in Settings.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names |= {f"LANGORCH_{group.upper()}__{name.upper()}" for name in kind.model_fields}
        else:
            names.add(f"LANGORCH_{group.upper()}")
    return names


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


class Unset(LookupError):
    """A ``${NAME:?message}`` whose NAME is not set: compose refuses to start."""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?message}`` (``:`` = unset or empty)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        have = env.get(name)
        empty = have is None or (have == "" and op is not None and op.startswith(":"))
        if op and op.endswith("?") and empty:
            raise Unset(name, arg)
        if op and op.endswith("-") and empty:
            return arg
        return have or ""

    return _VARIABLE.sub(one, value)


def env_example() -> dict[str, str]:
    pairs = [line.split("=", 1) for line in (DEPLOY / "env.example").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    return {key: value for key, value in pairs}


def service_env(name: str) -> dict[str, str]:
    return {key: str(value) for key, value in (SERVICES[name].get("environment") or {}).items()}


def argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_the_compose_file_has_postgres_a_migration_api_replicas_workers_and_an_entry_point() -> None:
    assert set(SERVICES) == {"db", "migrate", "api", "worker", "proxy"}
    assert SERVICES["db"]["image"].startswith("postgres:")
    assert SERVICES["api"]["deploy"]["replicas"] >= 2
    assert SERVICES["worker"]["deploy"]["replicas"] >= 2
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("api", "worker"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert SERVICES["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
    health = " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/api/health" in health
    # The runs' files are shared by the workers (a run resumes on any of them) and the API
    # (it serves their artifacts).
    for name in ("api", "worker"):
        assert "files:/data/files" in SERVICES[name]["volumes"]
    for name in LANGORCH_SERVICES:
        build = SERVICES[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    mounted = SERVICES["proxy"]["volumes"][0].split(":")[0]
    assert (DEPLOY / mounted).is_file()
    assert "dynamic a api 8000" in (DEPLOY / "Caddyfile").read_text()


def test_every_compose_command_is_the_procfile_command_and_the_cli_accepts_it() -> None:
    entries = procfile()
    parser = build_parser()
    for service, entry in (("migrate", "release"), ("api", "web"), ("worker", "worker")):
        command = argv(SERVICES[service]["command"])
        assert command == shlex.split(entries[entry].replace("${PORT:-8000}", "8000")), (service, command)
        assert command[0] == "langorch"
        parser.parse_args(command[1:])


def test_every_langorch_variable_of_the_deploy_files_is_a_real_setting() -> None:
    known = setting_names()
    texts = [(DEPLOY / name).read_text() for name in ("compose.yaml", "env.example", "Dockerfile", "Procfile")]
    used = {name for text in texts for name in re.findall(r"\bLANGORCH_[A-Z0-9_]+", text)}
    assert used, "the deploy files set no LANGORCH_ variable?"
    assert sorted(used - known) == []


def test_the_compose_environment_loads_as_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {**env_example(), "LANGORCH_API__ALLOWED_HOSTS": "ops.example.com, langorch.internal"}
    for key in list(Settings.model_fields):
        monkeypatch.delenv(f"LANGORCH_{key.upper()}", raising=False)
    env = {key: interpolate(value, values) for key, value in service_env("api").items()}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.db.is_postgres and settings.db.url.startswith("postgresql+psycopg://langorch:")
    assert settings.api.allowed_hosts == ["ops.example.com", "langorch.internal"]
    assert settings.env_name == "production" and settings.log_format == "json"
    assert settings.auth.jwt_secret is not None and settings.admin_password is not None
    assert service_env("api") == service_env("worker") == service_env("migrate")


def test_compose_refuses_to_start_without_the_secrets_env_example_lists() -> None:
    required = set()
    for name in (*LANGORCH_SERVICES, "db"):
        for value in service_env(name).values():
            required |= {m.group(1) for m in _VARIABLE.finditer(value) if (m.group(2) or "").endswith("?")}
    assert required == {"POSTGRES_PASSWORD", "LANGORCH_AUTH__JWT_SECRET", MASTER_KEY_ENV, "LANGORCH_ADMIN_PASSWORD"}
    assert required <= set(env_example())
    for name in required:
        values = {k: v for k, v in env_example().items() if k != name}
        with pytest.raises(Unset):
            for service in LANGORCH_SERVICES:
                for value in service_env(service).values():
                    interpolate(value, values)


def test_env_example_left_unchanged_does_not_start() -> None:
    """Its placeholders are refused where they are used, so nobody runs with a published secret."""
    example = env_example()
    with pytest.raises(ValueError, match="at least 32"):
        signing_key(AuthSettings(jwt_secret=example["LANGORCH_AUTH__JWT_SECRET"]))
    with pytest.raises(MasterKeyError):
        MasterKey.parse(example[MASTER_KEY_ENV], MASTER_KEY_ENV)
    assert password_problem(example["LANGORCH_ADMIN_PASSWORD"]) is not None


# --------------------------------------------------------------------------- the Dockerfile
def _stages() -> list[list[tuple[str, str]]]:
    """(instruction, arguments) per stage, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), rest.strip()))
    return stages


def _ignored(path: str) -> bool:
    """Whether ``path`` is left out of the build context by Dockerfile.dockerignore (its plain entries)."""
    patterns = [line.strip().rstrip("/") for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#") and "*" not in line]
    return any(path == p or path.startswith(p + "/") for p in patterns)


def test_what_the_dockerfile_copies_is_in_the_repository_and_in_the_build_context() -> None:
    copied = [args.split() for stage in _stages() for op, args in stage if op == "COPY" and "--from" not in args]
    assert copied
    for words in copied:
        for source in words[:-1]:
            assert (REPO / source).exists(), source
            assert not _ignored(source.rstrip("/")), source
    ui_stage, app_stage = _stages()
    assert ("RUN", "npm run build") in ui_stage
    assert '"build": "NEXT_TELEMETRY_DISABLED=1 next build"' in (REPO / "frontend" / "package.json").read_text()
    assert 'output: "export"' in (REPO / "frontend" / "next.config.ts").read_text()  # next build writes out/
    copy_ui = next(args for op, args in app_stage if op == "COPY" and "--from=ui" in args).split()
    assert copy_ui[1:] == ["/src/frontend/out", "./frontend/out"]
    assert ("WORKDIR", "/src/frontend") in ui_stage and ("WORKDIR", "/app") in app_stage
    env = " ".join(args for op, args in app_stage if op == "ENV")
    assert "LANGORCH_API__STATIC_DIR=/app/frontend/out" in env
    cmd = next(args for op, args in app_stage if op == "CMD")
    build_parser().parse_args(yaml.safe_load(cmd)[1:])


def test_the_image_layout_lets_migrate_find_its_migrations(tmp_path: Path) -> None:
    """The final stage's COPY lines replayed into a folder standing for /app, the package
    imported from there as the editable install does: ``langorch migrate`` works."""
    app = tmp_path / "app"
    app.mkdir()
    for op, args in _stages()[-1]:
        if op != "COPY" or "--from" in args:
            continue
        source, target = args.split()
        destination = app / target / Path(source).name if target.endswith("/") else app / target
        if (REPO / source).is_dir():
            shutil.copytree(REPO / source, destination,
                            ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
        else:
            shutil.copy(REPO / source, destination)
    assert (app / "alembic.ini").is_file() and (app / "backend" / "langorch").is_dir()
    env = {"PYTHONPATH": str(app / "backend"), "PATH": "/usr/bin:/bin",
           "LANGORCH_DB__URL": f"sqlite+aiosqlite:///{tmp_path / 'image.db'}"}
    where = subprocess.run([sys.executable, "-c", "import langorch, langorch.store.migrations as m; "
                            "print(langorch.__file__); print(m.alembic_ini())"],
                           cwd=app, env=env, capture_output=True, text=True, timeout=60)
    assert where.stdout.split() == [str(app / "backend" / "langorch" / "__init__.py"), str(app / "alembic.ini")]
    done = subprocess.run([sys.executable, "-c", "import sys; from langorch.cli import main; sys.exit(main())",
                           "migrate"], cwd=app, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "database is at the latest schema" in done.stdout


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed (apt-get install caddy)")
def test_the_caddyfile_is_valid() -> None:
    done = subprocess.run(["caddy", "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"source":"a"' in done.stdout.replace(" ", "")


def test_the_docs_describe_the_compose_services_as_they_are() -> None:
    doc = (REPO / "docs" / "operations.md").read_text()
    section = doc.split("## Deploying with Docker Compose", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip().strip("`"): line for line in section.splitlines()
            if line.startswith("| `")}
    assert set(rows) == set(SERVICES)
    for name in LANGORCH_SERVICES:
        assert f"`{' '.join(argv(SERVICES[name]['command']))}`" in rows[name], name
    for name in ("api", "worker"):
        assert f"`deploy.replicas: {SERVICES[name]['deploy']['replicas']}`" in rows[name], name
    assert f"`{SERVICES['db']['image']}`" in rows["db"]
