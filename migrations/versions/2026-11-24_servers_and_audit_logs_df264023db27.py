"""servers and audit logs

Revision ID: df264023db27
Revises:
Create Date: 2026-11-24 19:05:26.217410+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision: str = "df264023db27"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "servers",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", JsonB, nullable=False),
        sa.Column("tools", JsonB, nullable=True),
        sa.Column("metadata", JsonB, nullable=False),
        sa.Column("auth", JsonB, nullable=True),
        sa.Column("access", JsonB, nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_servers")),
    )
    with op.batch_alter_table("servers") as batch_op:
        batch_op.create_index(batch_op.f("ix_servers_name"), ["name"], unique=True)
        batch_op.create_index(batch_op.f("ix_servers_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_servers_enabled"), ["enabled"], unique=False)

    op.create_table(
        "audit_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("timestamp", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("logger", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=320), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("mcp_server", sa.String(length=64), nullable=True),
        sa.Column("tool_name", sa.String(length=128), nullable=True),
        sa.Column("parameters", JsonB, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("trace_id", sa.String(length=32), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
    )
    with op.batch_alter_table("audit_logs") as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_logs_timestamp"), ["timestamp"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_logs_event_type"), ["event_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_logs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_logs_tool_name"), ["tool_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_logs_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_logs_trace_id"), ["trace_id"], unique=False)
        batch_op.create_index("ix_audit_logs_user_timestamp", ["user", "timestamp"], unique=False)
        batch_op.create_index("ix_audit_logs_server_timestamp", ["mcp_server", "timestamp"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_logs")
    op.drop_table("servers")
