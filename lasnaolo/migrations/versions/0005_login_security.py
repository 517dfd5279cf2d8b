"""Login security: failed sign-ins per username and client address (lockout seen by every server
process) and revoked re-login cookies.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username_key", sa.String(64), nullable=False),
        sa.Column("client_key", sa.String(64), nullable=True),
        sa.Column("attempted_at", sa.Float, nullable=False),
    )
    op.create_index("ix_login_failure_username", "login_failure", ["username_key", "attempted_at"])
    op.create_index("ix_login_failure_client", "login_failure", ["client_key", "attempted_at"])
    op.create_table(
        "revoked_login",
        sa.Column("token_id", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("revoked_login")
    op.drop_index("ix_login_failure_client", "login_failure")
    op.drop_index("ix_login_failure_username", "login_failure")
    op.drop_table("login_failure")
