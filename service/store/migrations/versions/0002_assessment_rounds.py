"""Assessment rounds: rounds (frozen scheme and inputs, state, lock version), judgements, comments,
submissions and the experts' AHP matrices.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revision_of", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("scheme", sa.String(64), nullable=False),
        sa.Column("scheme_label", sa.String(128), nullable=False),
        sa.Column("scheme_text", sa.Text(), nullable=False),
        sa.Column("scheme_sha256", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("regions", sa.String(1024), nullable=False),
        sa.Column("scenarios", sa.Text(), nullable=False),
        sa.Column("vintage", sa.DateTime(), nullable=True),
        sa.Column("inputs", sa.LargeBinary(), nullable=False),
        sa.Column("inputs_sha256", sa.String(64), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("returned_reason", sa.Text(), nullable=True),
        sa.Column("scores", sa.Text(), nullable=True),
        sa.Column("scores_sha256", sa.String(64), nullable=True),
        sa.UniqueConstraint("family_id", "version", name="uq_rounds_family_version"),
    )
    op.create_index("ix_rounds_family_id", "rounds", ["family_id"])
    op.create_table(
        "round_judgements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("scenario_id", sa.String(64), nullable=False),
        sa.Column("indicator_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("round_id", "evaluator", "scenario_id", "indicator_id", name="uq_round_judgements_cell"),
    )
    op.create_index("ix_round_judgements_round_id", "round_judgements", ["round_id"])
    op.create_table(
        "round_comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("scenario_id", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("round_id", "evaluator", "scenario_id", name="uq_round_comments_sheet"),
    )
    op.create_index("ix_round_comments_round_id", "round_comments", ["round_id"])
    op.create_table(
        "round_submissions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("round_id", "evaluator", name="uq_round_submissions_evaluator"),
    )
    op.create_index("ix_round_submissions_round_id", "round_submissions", ["round_id"])
    op.create_table(
        "round_ahp",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("matrix", sa.Text(), nullable=False),
        sa.Column("cr", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("round_id", "evaluator", "node", name="uq_round_ahp_node"),
    )
    op.create_index("ix_round_ahp_round_id", "round_ahp", ["round_id"])


def downgrade() -> None:
    for table in ("round_ahp", "round_submissions", "round_comments", "round_judgements", "rounds"):
        op.drop_table(table)
