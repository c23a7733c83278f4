"""Owners' part of a round: self-assessment notes, evidence links and disputed metrics per scenario × indicator.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "round_owner_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("scenario_id", sa.String(64), nullable=False),
        sa.Column("indicator_id", sa.String(64), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("dispute_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("round_id", "scenario_id", "indicator_id", name="uq_round_owner_notes_cell"),
    )
    op.create_index("ix_round_owner_notes_round_id", "round_owner_notes", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_round_owner_notes_round_id", table_name="round_owner_notes")
    op.drop_table("round_owner_notes")
