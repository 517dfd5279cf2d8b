"""The absence summary: school × school year × month × grade band, without joins.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COUNTS = ("pupils", "lesson_hours", "illness_hours", "authorised_hours", "unauthorised_hours",
          "tier1_pupils", "tier2_pupils", "tier3_pupils")


def upgrade() -> None:
    op.create_table(
        "absence_summary",
        sa.Column("school_id", sa.String(20), primary_key=True),
        sa.Column("school_year", sa.String(9), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("grade_band", sa.String(3), primary_key=True),
        sa.Column("municipality_code", sa.String(3), nullable=False),
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("school_type", sa.String(20), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        *[sa.Column(c, sa.Integer, nullable=False) for c in COUNTS],
    )
    op.create_index("ix_absence_summary_year_region", "absence_summary",
                    ["school_year", "region_code", "municipality_code"])
    # Data stored before this revision gets its summary here; later imports keep it current.
    from lasnaolo.summary import refresh

    refresh(op.get_bind(), squares=False)  # the optional column arrives in 0007


def downgrade() -> None:
    op.drop_index("ix_absence_summary_year_region", "absence_summary")
    op.drop_table("absence_summary")
