"""Results applied: rectification items of the scenarios an approved round graded lowest.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "round_rectifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("scenario_id", sa.String(64), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("grade_id", sa.String(64), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("round_id", "scenario_id", name="uq_round_rectifications_scenario"),
    )
    op.create_index("ix_round_rectifications_round_id", "round_rectifications", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_round_rectifications_round_id", table_name="round_rectifications")
    op.drop_table("round_rectifications")
