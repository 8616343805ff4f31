"""The API tests' app over SQLite and PostgreSQL (worker and loops not started: the tests
drive the scheduler with their own clock)."""

from tests.api.conftest import (  # noqa: F401
    app,
    client,
    db_path,
    migrated_template,
    pg_migrated,
    pg_url,
    settings,
)
