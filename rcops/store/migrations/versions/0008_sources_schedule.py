"""sources: cron schedules, source alerts (blocked back-off), word-for-word reposts stored

* ``source.cron``: a 5-field cron expression (Asia/Shanghai) replacing the interval;
* ``source_alert``: one row per blocking episode of a source, with its back-off;
* ``mention.content_hash`` loses its unique constraint (an exact repost at another URL is
  stored in its story's chain; the canonical URL stays unique) and keeps an index.

Downgrading restores the unique constraint, which fails while reposts with equal
content are stored (nothing is changed then).

Revision ID: 0008
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

from rcops.store.models import UTCDateTime


revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cron", sa.String(length=120), nullable=True))

    op.create_table(
        "source_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.Column("retry_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"]),
        sa.ForeignKeyConstraint(["last_run_id"], ["crawl_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_source_alert_open", "source_alert", ["source_id", "closed_at"], unique=False)

    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_constraint("uq_mention_content_hash", type_="unique")
        batch_op.create_index("ix_mention_content_hash", ["content_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_content_hash")
        batch_op.create_unique_constraint("uq_mention_content_hash", ["content_hash"])

    op.drop_index("ix_source_alert_open", table_name="source_alert")
    op.drop_table("source_alert")

    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_column("cron")
