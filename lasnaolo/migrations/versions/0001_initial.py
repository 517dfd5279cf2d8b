"""Initial schema: reference municipalities, schools, absences, wellbeing, measures, import log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "municipality",
        sa.Column("municipality_code", sa.String(3), primary_key=True),
        sa.Column("name_fi", sa.String(80), nullable=False),
        sa.Column("name_sv", sa.String(80), nullable=False),
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("wellbeing_county_code", sa.String(2), nullable=True),
    )
    op.create_index("ix_municipality_region_code", "municipality", ["region_code"])
    op.create_table(
        "school",
        sa.Column("school_id", sa.String(20), primary_key=True),
        sa.Column("school_name", sa.String(200), nullable=False),
        sa.Column(
            "municipality_code",
            sa.String(3),
            sa.ForeignKey("municipality.municipality_code"),
            nullable=False,
        ),
        sa.Column("school_type", sa.String(20), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
    )
    op.create_index("ix_school_municipality_code", "school", ["municipality_code"])
    op.create_table(
        "absence",
        sa.Column("school_id", sa.String(20), sa.ForeignKey("school.school_id"), primary_key=True),
        sa.Column("school_year", sa.String(9), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("grade", sa.Integer, primary_key=True),
        *[
            sa.Column(name, sa.Integer, nullable=False)
            for name in (
                "pupils",
                "lesson_hours",
                "illness_hours",
                "authorised_hours",
                "unauthorised_hours",
                "tier1_pupils",
                "tier2_pupils",
                "tier3_pupils",
            )
        ],
    )
    op.create_index("ix_absence_year_month", "absence", ["school_year", "month"])
    op.create_table(
        "wellbeing",
        sa.Column("unit_type", sa.String(12), primary_key=True),
        sa.Column("unit_id", sa.String(20), primary_key=True),
        sa.Column("survey_year", sa.Integer, primary_key=True),
        sa.Column("grade_group", sa.String(3), primary_key=True),
        sa.Column("indicator", sa.String(40), primary_key=True),
        sa.Column("respondents", sa.Integer, nullable=False),
        sa.Column("value_pct", sa.Float, nullable=False),
    )
    op.create_table(
        "measure",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("school_id", sa.String(20), sa.ForeignKey("school.school_id"), nullable=False),
        sa.Column("measure", sa.String(60), nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date, nullable=True),
        sa.Column("fte", sa.Float, nullable=True),
        sa.UniqueConstraint("school_id", "measure", "start", name="uq_measure_school_start"),
    )
    op.create_index("ix_measure_school_id", "measure", ["school_id"])
    op.create_table(
        "import_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("file_kind", sa.String(20), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows_in_file", sa.Integer, nullable=False),
        sa.Column("rows_inserted", sa.Integer, nullable=False),
        sa.Column("rows_replaced", sa.Integer, nullable=False),
        sa.Column("rows_unchanged", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("import_log", "measure", "wellbeing", "absence", "school", "municipality"):
        op.drop_table(table)
