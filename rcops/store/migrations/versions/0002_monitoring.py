"""monitoring: scheme expressions, manual mentions, near-duplicate chains (首发)

Revision ID: 0002
Revises: 0001
Branch: monitoring (feature areas branch off 0001; ``migrate`` upgrades to all heads)
"""
from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = ("monitoring",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitoring_scheme", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expression", sa.Text(), nullable=True))

    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=20), nullable=False, server_default="crawl"))
        batch_op.add_column(sa.Column("source_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("simhash", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("story_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("is_first_source", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("spread_rank", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index(batch_op.f("ix_mention_story_key"), ["story_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mention_story_key"))
        for name in ("spread_rank", "is_first_source", "story_key", "simhash", "source_name", "origin"):
            batch_op.drop_column(name)

    with op.batch_alter_table("monitoring_scheme", schema=None) as batch_op:
        batch_op.drop_column("expression")
