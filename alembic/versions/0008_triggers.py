"""triggers: registrations reshaped (several per procedure, schedule policies, webhook and
event settings), their fire history, runs.trigger_id/payload_hash, fencing tokens on leader leases

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Nothing ever wrote the old table: replace it.
    op.drop_table("trigger_registrations")
    op.create_table(
        "trigger_registrations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("procedure_id", sa.String(200), nullable=False),
        sa.Column("version", sa.String(64)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("trigger_type", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("cron", sa.String(200)),
        sa.Column("rrule", sa.Text()),
        sa.Column("at", TS),
        sa.Column("timezone", sa.String(64)),
        sa.Column("misfire_grace_s", sa.Integer(), nullable=False),
        sa.Column("coalesce", sa.Boolean(), nullable=False),
        sa.Column("overlap", sa.String(16), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("dedupe_window_s", sa.Integer(), nullable=False),
        sa.Column("input_mapping", sa.JSON()),
        sa.Column("config", sa.JSON()),
        sa.Column("secret", sa.Text()),
        sa.Column("previous_secret", sa.Text()),
        sa.Column("previous_secret_until", TS),
        sa.Column("next_fire_at", TS),
        sa.Column("last_fired_at", TS),
        sa.Column("last_run_id", sa.String(64)),
        sa.Column("fire_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_trigger_registrations_procedure", "trigger_registrations", ["procedure_id"])
    op.create_index("ix_trigger_registrations_due", "trigger_registrations", ["enabled", "next_fire_at"])
    op.create_table(
        "trigger_fires",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("trigger_id", sa.String(64), nullable=False),
        sa.Column("fired_at", TS, nullable=False),
        sa.Column("scheduled_for", TS),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("payload_hash", sa.String(64)),
        sa.Column("payload", sa.JSON()),
        sa.Column("detail", sa.Text()),
    )
    op.create_index("ix_trigger_fires_trigger", "trigger_fires", ["trigger_id", "fired_at"])
    with op.batch_alter_table("trigger_dedupe") as batch:
        batch.add_column(sa.Column("trigger_id", sa.String(64)))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("trigger_id", sa.String(64)))
        batch.add_column(sa.Column("payload_hash", sa.String(64)))
    with op.batch_alter_table("leader_leases") as batch:
        batch.add_column(sa.Column("token", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("leader_leases") as batch:
        batch.drop_column("token")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("payload_hash")
        batch.drop_column("trigger_id")
    with op.batch_alter_table("trigger_dedupe") as batch:
        batch.drop_column("trigger_id")
    op.drop_index("ix_trigger_fires_trigger", table_name="trigger_fires")
    op.drop_table("trigger_fires")
    op.drop_index("ix_trigger_registrations_due", table_name="trigger_registrations")
    op.drop_index("ix_trigger_registrations_procedure", table_name="trigger_registrations")
    op.drop_table("trigger_registrations")
    op.create_table(
        "trigger_registrations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("procedure_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("trigger_type", sa.String(length=32), nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=True),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("procedure_id", "version", name="uq_trigger_proc_version"),
    )
