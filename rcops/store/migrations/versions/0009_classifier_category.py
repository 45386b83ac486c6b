"""classifier: risk category on incidents, category corrections as labels

Revision ID: 0009
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("category", sa.String(40), nullable=True))
        batch.add_column(sa.Column("category_corrected_by", sa.String(100), nullable=True))
    with op.batch_alter_table("grade_label") as batch:
        batch.add_column(sa.Column("category", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grade_label") as batch:
        batch.drop_column("category")
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("category_corrected_by")
        batch.drop_column("category")
