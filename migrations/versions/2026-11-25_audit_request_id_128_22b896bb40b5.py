"""audit_logs.request_id holds any request id the gateway accepts (up to 128 characters)

Revision ID: 22b896bb40b5
Revises: df264023db27
Create Date: 2026-11-25 12:00:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "22b896bb40b5"
down_revision: str | None = "df264023db27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_logs") as batch_op:
        batch_op.alter_column(
            "request_id", existing_type=sa.String(length=64), type_=sa.String(length=128), existing_nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_logs") as batch_op:
        batch_op.alter_column(
            "request_id",
            existing_type=sa.String(length=128),
            type_=sa.String(length=64),
            existing_nullable=True,
            postgresql_using="left(request_id, 64)",
        )
