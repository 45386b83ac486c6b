"""accounts: users, sign-in sessions

Revision ID: 0005
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import rcops.store.models


revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", rcops.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_until", rcops.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", rcops.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", rcops.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", rcops.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", rcops.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", rcops.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", rcops.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
    op.drop_table("user_session")
    op.drop_table("app_user")
