"""Indicator sets, people, returns and their rows.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_sets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, nullable=False, unique=True),
        sa.Column("network_code", sa.String(40), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("user", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("org_code", sa.String(20), nullable=True),
        sa.Column("granted_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("org_code", sa.String(20), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("set_version", sa.Integer, nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("submitted_at", sa.DateTime, nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("reviewed_at", sa.DateTime, nullable=True),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("changes", sa.Text, nullable=False, server_default=""),
        sa.Column("superseded", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("org_code", "month", "version", name="uq_returns_version"),
    )
    op.create_index("ix_returns_org_month", "returns", ["org_code", "month"])
    op.create_table(
        "return_rows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("return_id", sa.Integer,
                  sa.ForeignKey("returns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("indicator", sa.String(40), nullable=False),
        sa.Column("dimension", sa.String(40), nullable=False),
        sa.Column("group", sa.String(40), nullable=False),
        sa.Column("numerator", sa.BigInteger, nullable=False),
        sa.Column("denominator", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("return_id", "indicator", "dimension", "group",
                            name="uq_return_rows_cell"),
    )
    op.create_index("ix_return_rows_return_id", "return_rows", ["return_id"])


def downgrade() -> None:
    op.drop_table("return_rows")
    op.drop_index("ix_returns_org_month", "returns")
    op.drop_table("returns")
    op.drop_table("people")
    op.drop_table("indicator_sets")
