"""disposal: pending tier downgrades; escalations, notifications and their send log, analysis reports; plan step deadlines relative to the previous step

Revision ID: 0004
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import rcops.store.models

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = rcops.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(300), nullable=False),
        sa.Column("fired_at", UTC, nullable=True),
        sa.Column("cancelled_at", UTC, nullable=True),
        sa.Column("cancelled_by", sa.String(100), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "level", name="uq_escalation_task_level"),
    )
    op.create_index("ix_escalation_incident_id", "escalation", ["incident_id"])
    op.create_index("ix_escalation_task_id", "escalation", ["task_id"])
    op.create_index("ix_escalation_status", "escalation", ["status"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=True),
        sa.Column("escalation_id", sa.Integer(), sa.ForeignKey("escalation.id"), nullable=True),
        sa.Column("tier_code", sa.String(8), nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key", name="uq_notification_dedup"),
    )
    op.create_index("ix_notification_incident_id", "notification", ["incident_id"])
    op.create_index("ix_notification_status", "notification", ["status"])
    op.create_table(
        "notification_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), sa.ForeignKey("notification.id"), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_attempt_notification_id", "notification_attempt", ["notification_id"])
    op.create_table(
        "analysis_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("content_html", sa.Text(), nullable=False),
        sa.Column("template", sa.String(1000), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), sa.ForeignKey("analysis_report.id"), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=True),
        sa.Column("submitted_at", UTC, nullable=True),
        sa.Column("archived_by", sa.String(100), nullable=True),
        sa.Column("archived_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "version", name="uq_report_incident_version"),
    )
    op.create_index("ix_analysis_report_incident_id", "analysis_report", ["incident_id"])
    op.create_table(
        "report_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("analysis_report.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mime", sa.String(100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "name", name="uq_report_attachment_name"),
    )
    op.create_index("ix_report_attachment_report_id", "report_attachment", ["report_id"])
    with op.batch_alter_table("plan_step") as batch_op:
        batch_op.add_column(sa.Column("relative_to", sa.String(20), nullable=False, server_default="detection"))
    with op.batch_alter_table("incident") as batch_op:
        batch_op.add_column(sa.Column("pending_tier_code", sa.String(8), nullable=True))
        batch_op.add_column(sa.Column("pending_tier_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pending_tier_by", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch_op:
        batch_op.drop_column("pending_tier_by")
        batch_op.drop_column("pending_tier_reason")
        batch_op.drop_column("pending_tier_code")
    with op.batch_alter_table("plan_step") as batch_op:
        batch_op.drop_column("relative_to")
    op.drop_table("report_attachment")
    op.drop_table("analysis_report")
    op.drop_table("notification_attempt")
    op.drop_table("notification")
    op.drop_table("escalation")
