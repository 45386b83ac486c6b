"""classifier: risk category and abusive-language flag on mentions

Revision ID: 0003
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mention") as batch:
        batch.add_column(sa.Column("category", sa.String(40), nullable=True))
        batch.add_column(sa.Column("abusive", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mention") as batch:
        batch.drop_column("abusive")
        batch.drop_column("category")
