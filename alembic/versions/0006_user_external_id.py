"""users.external_id: the issuer|subject of a user who signs in through OIDC

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 11:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("external_id", sa.String(400), nullable=True))
        batch.create_unique_constraint("uq_users_external_id", ["external_id"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_external_id", type_="unique")
        batch.drop_column("external_id")
