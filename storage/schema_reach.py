"""Tables for reaching people (issue 10): contacts, reminder and broadcast claims, the wave
calendar. Defined on the one `storage.metadata.metadata`; `storage.schema` re-exports them.

Like every table, nothing here joins a pseudonym to a response or an answer.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from storage.metadata import metadata

__all__ = [
    "broadcast_claims",
    "broadcasts",
    "contacts",
    "dropouts",
    "planned_invitations",
    "reminder_claims",
    "roster_uploads",
    "wave_plans",
]

# Contacts (issue 10): the chat id of a person the bot may message first, ENCRYPTED (AES-GCM,
# key derived from the server secret, see services/contacts.py), only while it is needed: an
# opt-in to outreach ('outreach'), a unit head's role for due-date reminders ('official').
# Keyed by pseudonym, never joined to responses or answers. The contact of an unfinished
# survey lives with its session (`survey_contacts` in storage.schema, issue 20).
contacts = Table(
    "contacts",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("purpose", String(10), primary_key=True),
    Column("chat", LargeBinary, nullable=False),  # 12-byte nonce + ciphertext + tag
    Column("language", String(5), nullable=True),
    # Outreach may go to some units only; NULL for reminders (the session knows the unit).
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=True),
    CheckConstraint("purpose IN ('outreach', 'official')", name="purpose"),
    sqlite_with_rowid=False,  # see the note in storage.schema
)

# One row per (person, wave, reminder round): the claim that makes each reminder exactly-once
# across bot processes (only one INSERT wins the primary key), and what became of it.
reminder_claims = Table(
    "reminder_claims",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("status", String(10), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('claimed', 'sent', 'gone', 'failed')", name="status"),
    sqlite_with_rowid=False,  # see the note in storage.schema
)

# Outreach broadcasts (sosialisasi): the text an admin confirmed, and to which units (NULL: all).
broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("unit_codes", String(400), nullable=True),  # comma-separated; NULL = every unit
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed", Boolean, nullable=False, server_default="0"),
    # The admin who drafted it in chat (a photo sent next attaches to their draft); NULL: CLI.
    Column("author", String(64), nullable=True),
    # An optional picture: the uploaded bytes (CLI) and/or Telegram's file id for it (a photo
    # sent in chat, or learned from the first upload so later sends do not upload again).
    Column("photo", LargeBinary, nullable=True),
    Column("photo_file_id", String(255), nullable=True),
)

# One row per (broadcast, person): the claim that sends each broadcast to each person once.
broadcast_claims = Table(
    "broadcast_claims",
    metadata,
    Column("broadcast_id", ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("status", String(10), nullable=False),
    CheckConstraint("status IN ('claimed', 'sent', 'gone', 'failed')", name="status"),
    sqlite_with_rowid=False,  # see the note in storage.schema
)

# The wave calendar: a planned wave (a draft until it opens) with its open and close times.
wave_plans = Table(
    "wave_plans",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("opens_at", DateTime(timezone=True), nullable=False),
    Column("closes_at", DateTime(timezone=True), nullable=True),
    # Set when the scheduler (or an admin) opened the wave; NULL while the plan is a draft.
    Column("wave_id", ForeignKey("waves.id", ondelete="SET NULL"), nullable=True),
    # The questionnaire each group answers (issue 22), as chosen at planning time:
    # "external=layanan,internal=internal@3"; a group not named takes the default when opened.
    Column("questionnaire_choice", String(400), nullable=True),
)

# Personal invitations issued for a planned wave before it opens (issue 22): like
# `invitations` (a token hash, a group and a unit; no name), moved there in the transaction
# that opens the wave. A link tapped before that is told when the survey opens.
planned_invitations = Table(
    "planned_invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("plan_name", ForeignKey("wave_plans.name", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("grp IN ('internal', 'expert')", name="grp"),
)

# A roster CSV an admin sent to the bot, waiting for "internal or expert?" (issue 10). Only
# Telegram's file id is kept (the names stay in Telegram); `grp` is set by the one tap that
# uses it, so a double tap cannot create the links twice. Old rows are pruned.
roster_uploads = Table(
    "roster_uploads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_id", String(255), nullable=False),
    Column("file_name", String(255), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("grp", String(10), nullable=True),
)

# Surveys begun and ended without a submission (cancelled, or expired), counted per wave, unit
# and group when their partial response is deleted: /progres shows them as abandoned. Only a
# count: no pseudonym, no time.
dropouts = Table(
    "dropouts",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("count", Integer, nullable=False),
)
