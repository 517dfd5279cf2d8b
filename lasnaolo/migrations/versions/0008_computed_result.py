"""Heavy results computed once per data version and shared by every server process
(lasnaolo.results): keyed and signed by the installation's key, bounded in size; each with the
question it answers, so that an import can compute the questions asked before it again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "computed_result",
        sa.Column("result_key", sa.String(64), primary_key=True),
        sa.Column("data_version", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("question", sa.LargeBinary, nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
    )
    op.create_index("ix_computed_result_version", "computed_result", ["data_version"])


def downgrade() -> None:
    op.drop_index("ix_computed_result_version", "computed_result")
    op.drop_table("computed_result")
