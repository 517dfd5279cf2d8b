"""Annual targets and their audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "target",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("unit_level", sa.String(12), nullable=False),
        sa.Column("unit_code", sa.String(20), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("metric", sa.String(60), nullable=False),
        sa.Column("baseline_value", sa.Float, nullable=False),
        sa.Column("baseline_reason", sa.Text, nullable=True),
        sa.Column("target_value", sa.Float, nullable=False),
        sa.Column("measures", sa.Text, nullable=False),
        sa.Column("responsible", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_target_unit_year", "target", ["unit_level", "unit_code", "school_year"])
    op.create_table(
        "target_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("target.id"), nullable=False),
        sa.Column("action", sa.String(12), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("old", sa.Text, nullable=True),
        sa.Column("new", sa.Text, nullable=True),
    )
    op.create_index("ix_target_event_target_id", "target_event", ["target_id"])


def downgrade() -> None:
    op.drop_index("ix_target_event_target_id", "target_event")
    op.drop_table("target_event")
    op.drop_index("ix_target_unit_year", "target")
    op.drop_table("target")
