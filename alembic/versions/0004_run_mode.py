"""runs.mode: production, dry_run or test

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 08:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("mode", sa.String(16), nullable=False, server_default="production"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("mode")
