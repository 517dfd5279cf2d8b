"""Charts the pages drew (lasnaolo.results.BUILT) marked apart from the heavy results and
bounded apart, and every class's bytes readable from an index without reading the payloads:
keeping one more result sums its class's sizes from the index (about 1 ms with 20,000 kept
charts on SQLite, against about 20 ms reading the table; on PostgreSQL once autovacuum has
visited the table).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("computed_result") as batch:
        batch.add_column(sa.Column("built", sa.Boolean, nullable=False, server_default=sa.false()))
    # The prefix holds no wildcard; SQLite's LIKE also ignores ASCII case, which no name uses
    # (they are module paths).
    op.execute("UPDATE computed_result SET built = TRUE WHERE name LIKE 'lasnaolo.ui.built:%'")
    op.create_index("ix_computed_result_class_size", "computed_result", ["built", "size"])


def downgrade() -> None:
    op.drop_index("ix_computed_result_class_size", "computed_result")
    with op.batch_alter_table("computed_result") as batch:
        batch.drop_column("built")
