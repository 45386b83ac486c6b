"""analysis_report.row_version: optimistic locking of report drafts

A report open on a stale screen must not overwrite a colleague's saved edit: the
console and ``rcops incident edit-report/submit`` pass the version they loaded.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analysis_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("analysis_report", schema=None) as batch_op:
        batch_op.drop_column("row_version")
