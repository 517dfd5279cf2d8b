"""Self-evaluation of the attendance model: append-only assessments with their history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "self_evaluation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("unit_level", sa.String(12), nullable=False),
        sa.Column("unit_code", sa.String(20), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("recommendation", sa.String(40), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_self_evaluation_unit_year", "self_evaluation", ["unit_level", "unit_code", "school_year"])


def downgrade() -> None:
    op.drop_index("ix_self_evaluation_unit_year", "self_evaluation")
    op.drop_table("self_evaluation")
