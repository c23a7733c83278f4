"""The store's schema in one module: accounts, API tokens, sessions, login attempts, the audit log, and
assessment rounds (rounds, judgements, comments, submissions, experts' AHP matrices).

Every change to these classes needs a migration in ``service/store/migrations/versions`` (a test compares
the migrated schema with this module). Times are stored as naive UTC.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    """An account. ``regions`` is a comma-separated list of region ids, or ``*``."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    regions: Mapped[str] = mapped_column(String(1024))
    department: Mapped[str | None] = mapped_column(String(128), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime)

    @property
    def region_list(self) -> tuple[str, ...]:
        return tuple(r for r in self.regions.split(",") if r)


class ApiToken(Base):
    """An API token: only the SHA-256 of the secret is kept; ``prefix`` identifies it in listings."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LoginSession(Base):
    """A dashboard session: the cookie carries a random id, the store only its SHA-256."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginAttempt(Base):
    """One login attempt, kept to rate-limit by account and by address across worker processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account_at", "account", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    success: Mapped[bool] = mapped_column(Boolean)


class AuditEvent(Base):
    """An append-only row per write: who, role, when, what, from where, before → after (JSON text).

    The database refuses UPDATE and DELETE on this table (triggers created by the migration).
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)


class Round(Base):
    """An assessment round: a frozen scheme × period × regions × scenarios, with a state.

    ``scheme_text`` is the resolved scheme (and its AHP file) as YAML, frozen at opening with its SHA-256;
    ``inputs`` the Parquet snapshot of the scenarios, scenario metrics and street outcomes it scores,
    taken at opening (``vintage`` = the warehouse's newest vintage then). ``lock_version`` is bumped by
    every write, under the row's write lock, so a state change and a rating never interleave. ``scores``
    (JSON) is fixed at approval. A revision is a new row with the same ``family_id``, ``version`` + 1,
    ``revision_of`` the approved row and a ``reason``.
    """

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("family_id", "version", name="uq_rounds_family_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    version: Mapped[int] = mapped_column(Integer)
    revision_of: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    scheme: Mapped[str] = mapped_column(String(64))
    scheme_label: Mapped[str] = mapped_column(String(128))
    scheme_text: Mapped[str] = mapped_column(Text)
    scheme_sha256: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    regions: Mapped[str] = mapped_column(String(1024))
    scenarios: Mapped[str] = mapped_column(Text)
    vintage: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    inputs: Mapped[bytes] = mapped_column(LargeBinary)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    lock_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    returned_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    scores: Mapped[str | None] = mapped_column(Text, nullable=True)
    scores_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def region_list(self) -> tuple[str, ...]:
        return tuple(r for r in self.regions.split(",") if r)


class _RoundPart:
    """A row of one of a round's parts: its own id and the round it belongs to (indexed); these columns come
    first in the table, as the migration creates them."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-3)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True, sort_order=-2)


class _EvaluatorPart(_RoundPart):
    """A row one evaluator of the round owns."""

    evaluator: Mapped[str] = mapped_column(String(64), sort_order=-1)


class Judgement(_EvaluatorPart, Base):
    """One evaluator's rating of one scenario on one judged indicator in a round."""

    __tablename__ = "round_judgements"
    __table_args__ = (
        UniqueConstraint("round_id", "evaluator", "scenario_id", "indicator_id", name="uq_round_judgements_cell"),
    )

    scenario_id: Mapped[str] = mapped_column(String(64))
    indicator_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class JudgementComment(_EvaluatorPart, Base):
    """An evaluator's comment on one scenario in a round."""

    __tablename__ = "round_comments"
    __table_args__ = (UniqueConstraint("round_id", "evaluator", "scenario_id", name="uq_round_comments_sheet"),)

    scenario_id: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class RoundSubmission(_EvaluatorPart, Base):
    """An evaluator has submitted its ratings in a round (they become final and visible to the others)."""

    __tablename__ = "round_submissions"
    __table_args__ = (UniqueConstraint("round_id", "evaluator", name="uq_round_submissions_evaluator"),)

    submitted_at: Mapped[datetime] = mapped_column(DateTime)


class AhpJudgement(_EvaluatorPart, Base):
    """An expert's pairwise matrix for one node of the scheme's tree (JSON), with its consistency ratio."""

    __tablename__ = "round_ahp"
    __table_args__ = (UniqueConstraint("round_id", "evaluator", "node", name="uq_round_ahp_node"),)

    node: Mapped[str] = mapped_column(String(64))
    matrix: Mapped[str] = mapped_column(Text)
    cr: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class OwnerNote(_RoundPart, Base):
    """An owner's self-assessment of one scenario on one indicator of a round: a note, evidence links (JSON
    list of http(s) addresses), and optionally a dispute of the metric with a reason for the evaluators."""

    __tablename__ = "round_owner_notes"
    __table_args__ = (
        UniqueConstraint("round_id", "scenario_id", "indicator_id", name="uq_round_owner_notes_cell"),
    )

    scenario_id: Mapped[str] = mapped_column(String(64))
    indicator_id: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(128))
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence: Mapped[str] = mapped_column(Text)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    dispute_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Rectification(_RoundPart, Base):
    """Results applied: a scenario graded the scheme's lowest grade in an approved round must be rectified by
    its department (``open`` → ``done``, with a note), by ``due_date`` (approval + the scheme's
    ``results.rectification_days``). Created at approval, in the approval's transaction."""

    __tablename__ = "round_rectifications"
    __table_args__ = (UniqueConstraint("round_id", "scenario_id", name="uq_round_rectifications_scenario"),)

    scenario_id: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(128))
    grade_id: Mapped[str] = mapped_column(String(64))
    total: Mapped[float | None] = mapped_column(Float, nullable=True)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
