"""Baseline: accounts, API tokens, sessions, login attempts, the append-only audit log, and assessment rounds
with their parts (judgements, comments, submissions, experts' AHP matrices, owners' notes, rectifications).

The four pre-release migrations (0001 accounts … 0004 rectifications) squashed into one before the first
release. It keeps the head's revision id, so a store already at 0004 is at head and stays as it is; a store at
0001-0003 (made by a development build of a few hours) is refused by :func:`service.store.db.open_store`
with a message to recreate it. The next schema change is a new migration on top of this one.

Revision ID: 0004
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = None
branch_labels = None
depends_on = None

_APPEND_ONLY = "audit_events is append-only"


def _round_part(name: str, *columns: sa.Column, unique: tuple[str, ...], unique_name: str) -> None:
    """A table of one round's parts: an id, its round (indexed), ``columns``; one row per round × ``unique``."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        *columns,
        sa.UniqueConstraint("round_id", *unique, name=unique_name),
    )
    op.create_index(f"ix_{name}_round_id", name, ["round_id"])


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("regions", sa.String(1024), nullable=False),
        sa.Column("department", sa.String(128), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("session_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_login_attempts_account_at", "login_attempts", ["account", "at"])
    op.create_index("ix_login_attempts_address_at", "login_attempts", ["address", "at"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    _audit_events_append_only()
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
    _round_part(
        "round_judgements",
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("scenario_id", sa.String(64), nullable=False),
        sa.Column("indicator_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        unique=("evaluator", "scenario_id", "indicator_id"),
        unique_name="uq_round_judgements_cell",
    )
    _round_part(
        "round_comments",
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("scenario_id", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        unique=("evaluator", "scenario_id"),
        unique_name="uq_round_comments_sheet",
    )
    _round_part(
        "round_submissions",
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        unique=("evaluator",),
        unique_name="uq_round_submissions_evaluator",
    )
    _round_part(
        "round_ahp",
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("matrix", sa.Text(), nullable=False),
        sa.Column("cr", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        unique=("evaluator", "node"),
        unique_name="uq_round_ahp_node",
    )
    _round_part(
        "round_owner_notes",
        sa.Column("scenario_id", sa.String(64), nullable=False),
        sa.Column("indicator_id", sa.String(64), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("dispute_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        unique=("scenario_id", "indicator_id"),
        unique_name="uq_round_owner_notes_cell",
    )
    _round_part(
        "round_rectifications",
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
        unique=("scenario_id",),
        unique_name="uq_round_rectifications_scenario",
    )


def _audit_events_append_only() -> None:
    """The database itself refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) of ``audit_events``."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    for table in (
        "round_rectifications", "round_owner_notes", "round_ahp", "round_submissions", "round_comments",
        "round_judgements", "rounds", "audit_events", "login_attempts", "sessions", "api_tokens", "users",
    ):
        op.drop_table(table)
