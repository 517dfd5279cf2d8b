"""Absence rows may carry the sum of their pupils' squared year-to-date absence percents, so that
the chance spread of a rate is exact where the source can compute it (NULL: read from the tiers).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("absence", "absence_summary")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("pupil_share_squares", sa.Float, nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("pupil_share_squares")
