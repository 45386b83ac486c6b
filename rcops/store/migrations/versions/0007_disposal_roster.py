"""disposal: duty roster, task checklists (and plan step checklists), daily follow-up reports (one per incident and day)

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import rcops.store.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = rcops.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "duty_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        sa.Column("starts_at", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duty_shift_role_time", "duty_shift", ["role", "starts_at", "ends_at"])
    op.create_table(
        "task_checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_by", sa.String(100), nullable=True),
        sa.Column("done_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "position", name="uq_checklist_task_position"),
    )
    op.create_index("ix_task_checklist_item_task_id", "task_checklist_item", ["task_id"])
    op.create_table(
        "daily_followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "day", name="uq_daily_followup_incident_day"),
    )
    op.create_index("ix_daily_followup_incident_id", "daily_followup", ["incident_id"])
    with op.batch_alter_table("plan_step") as batch_op:
        batch_op.add_column(sa.Column("checklist", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("daily", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("plan_step") as batch_op:
        batch_op.drop_column("daily")
        batch_op.drop_column("checklist")
    op.drop_table("daily_followup")
    op.drop_table("task_checklist_item")
    op.drop_table("duty_shift")
