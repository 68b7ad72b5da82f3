"""Database schema (SQLAlchemy Core). Alembic migrations in `storage/migrations` mirror it.

Anonymity by construction (DESIGN.md §3): Telegram ids appear nowhere; people are known only
by `pseudonym` (HMAC-SHA256 of the Telegram id). No table joins a pseudonym to a response
id: a survey in progress is `survey_sessions` and `draft_answers` (keyed by pseudonym), and
submitting files the answers under a fresh random id and deletes both in one transaction.
`responses` and `answers` never hold a pseudonym, a Telegram id or a time of day.
Group chat ids for leadership subscriptions are not respondents and are stored as they are.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from scoring.paradata import ITEM_SECONDS_EDGES
from storage.metadata import GROUPS, metadata
from storage.schema_reach import (
    broadcast_claims,
    broadcasts,
    contacts,
    dropouts,
    planned_invitations,
    reminder_claims,
    roster_uploads,
    wave_plans,
)

__all__ = [
    "ITEM_TIME_BANDS",
    "broadcast_claims",
    "broadcasts",
    "contacts",
    "dropouts",
    "metadata",
    "planned_invitations",
    "reminder_claims",
    "roster_uploads",
    "wave_plans",
]

# Bands of seconds per item in item_paradata (one column each).
ITEM_TIME_BANDS = len(ITEM_SECONDS_EDGES) + 1

# SQLite keeps a rowid table in insertion order. For the tables below that order would tell
# who started (respondents: first contact; responses: survey start) and so let someone with
# the database file rank-match pseudonyms to responses. WITHOUT ROWID stores them in primary
# key order instead, and those keys are random (HMAC pseudonyms, random response ids).
# PostgreSQL's heap has the same weakness: storage.anonymity rewrites it in key order.

institution = Table(
    "institution",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    # kabupaten, kota, provinsi, kementerian, lembaga: picks the benchmark average.
    Column("level", String(20), nullable=False, server_default="kabupaten"),
)

units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # opd, service, kecamatan
    Column("parent_id", Integer, ForeignKey("units.id", ondelete="SET NULL"), nullable=True),
    Column("serves_public", Boolean, nullable=False, server_default="0"),
    # Population sizes per group, when known: the finite-population correction of targets and
    # margins. Staff roster (internal), expert list (expert), yearly service users (external).
    Column("staff_count", Integer, nullable=True),
    Column("expert_count", Integer, nullable=True),
    Column("service_user_count", Integer, nullable=True),
    CheckConstraint("kind IN ('opd', 'service', 'kecamatan')", name="kind"),
)

questionnaires = Table(
    "questionnaires",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(60), nullable=False),  # e.g. "internal"
    Column("version", Integer, nullable=False),
    Column("grp", String(10), nullable=False),
    # The validated YAML, reloaded with surveys.load_questionnaire_text.
    Column("source_yaml", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    # Where it came from (issue 22): "bundled", "yaml: FILE" or "xlsform: FILE"; NULL before.
    Column("origin", String(200), nullable=True),
    UniqueConstraint("key", "version", name="key_version"),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
)

waves = Table(
    "waves",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("status IN ('open', 'closed')", name="status"),
)
# At most one open wave, enforced by the database so two admins cannot both pass the check.
Index(
    "uq_waves_one_open",
    waves.c.status,
    unique=True,
    sqlite_where=text("status = 'open'"),
    postgresql_where=text("status = 'open'"),
)

# Which questionnaire version each group answers in a wave.
wave_questionnaires = Table(
    "wave_questionnaires",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("questionnaire_id", ForeignKey("questionnaires.id"), nullable=False),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
)

# Personal one-time invitations (internal, expert). Only the token's hash is kept, and no name.
# `used`: a survey was submitted on the link (a survey in progress on it is its session).
invitations = Table(
    "invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used", Boolean, nullable=False, server_default="0"),
    CheckConstraint("grp IN ('internal', 'expert')", name="grp"),
)

# Everyone who has talked to the bot, by pseudonym only.
respondents = Table(
    "respondents",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("language", String(5), nullable=True),  # chosen with /bahasa; None = Telegram's
    sqlite_with_rowid=False,  # see the note at the top
)

# A survey in progress (issue 20): everything the survey needs, keyed by the person's
# pseudonym, and no response id. Its answers so far are `draft_answers`; at submission the
# answers move to a fresh random response id and this row, its drafts and its contact are
# deleted in the same transaction, so nothing stored while the survey ran survives in the
# submitted record. Also deleted when the survey is cancelled or expires.
survey_sessions = Table(
    "survey_sessions",
    metadata,
    Column("pseudonym", ForeignKey("respondents.pseudonym", ondelete="CASCADE"), primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False),
    Column("questionnaire_id", ForeignKey("questionnaires.id"), nullable=False),
    Column("invitation_id", ForeignKey("invitations.id"), nullable=True),
    # consent, eligibility, language, question, review
    Column("step", String(20), nullable=False),
    Column("question_id", String(60), nullable=True),
    Column("language", String(5), nullable=False),
    Column("message_id", BigInteger, nullable=True),  # the message edited in place
    Column("version", Integer, nullable=False, server_default="0"),  # bumps on every move
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # An unfinished survey past this date is discarded; it never counts.
    Column("expires_on", Date, nullable=False),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    # A personal link's survey in progress is the claim on it: one at a time. The link is
    # marked used only when that survey is submitted, so a backup (which holds no survey in
    # progress) never shows who had begun, and after a restore the link works again.
    UniqueConstraint("invitation_id"),
    sqlite_with_rowid=False,  # see the note at the top
)

# The answers of a survey in progress, and what the person did on each item (paradata). A
# NULL value is an item shown and passed without an answer (skipped, or every option of a
# multiple choice taken off again). `seconds` adds up the time spent on the item (from the
# session's previous move to each answer), `changes` counts answers changed on coming back,
# `partial` marks a multiple choice being ticked (its ticks are not changes). Folded into
# `item_paradata` as counts when the survey ends, then deleted with the session.
draft_answers = Table(
    "draft_answers",
    metadata,
    Column(
        "pseudonym",
        ForeignKey("survey_sessions.pseudonym", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("question_id", String(60), primary_key=True),
    Column("value", Text, nullable=True),
    Column("seconds", Integer, nullable=False, server_default="0"),
    Column("changes", Integer, nullable=False, server_default="0"),
    Column("partial", Boolean, nullable=False, server_default="0"),
    sqlite_with_rowid=False,  # see the note at the top
)

# The chat id (encrypted, like `contacts`) of a person whose survey is in progress, for
# reminders. Lives exactly as long as the session (cascade), and backups leave it out.
survey_contacts = Table(
    "survey_contacts",
    metadata,
    Column(
        "pseudonym",
        ForeignKey("survey_sessions.pseudonym", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("chat", LargeBinary, nullable=False),  # 12-byte nonce + ciphertext + tag
    Column("language", String(5), nullable=True),
    sqlite_with_rowid=False,  # see the note at the top
)

# "Has taken part" markers: stop double voting, and nothing else. No date, no response id.
# `scope` is the unit for the external group (a citizen may rate every service they used,
# once each per wave; issue 22.6) and 0 for the others (one survey per wave and group). A
# scope of 0 in the external group predates per-unit completions and stands for every unit.
completions = Table(
    "completions",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("scope", Integer, primary_key=True, autoincrement=False, server_default="0"),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    sqlite_with_rowid=False,  # see the note at the top
)

# Submitted responses only: a random id made at submission, no pseudonym, the completion date
# (never a time of day) and the survey's duration and pace as coarse bands
# (scoring.paradata), never seconds.
responses = Table(
    "responses",
    metadata,
    Column("id", String(32), primary_key=True),  # random hex, drawn at submission
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False),
    Column("questionnaire_id", ForeignKey("questionnaires.id"), nullable=False),
    Column("language", String(5), nullable=False),
    Column("completed_on", Date, nullable=False),
    Column("duration_band", Integer, nullable=True),
    Column("pace_band", Integer, nullable=True),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    sqlite_with_rowid=False,  # see the note at the top
)
Index("ix_responses_wave_id", responses.c.wave_id)

answers = Table(
    "answers",
    metadata,
    Column("response_id", ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    Column("question_id", String(60), primary_key=True),
    Column("value", Text, nullable=False),  # option value(s), a number, or free text
    sqlite_with_rowid=False,  # see the note at the top
)

# Submissions counted per wave, unit, group and clock hour (UTC): when answers arrived, for
# the survey-integrity rules (issue 24), as counts only. Incremented in the submitting
# transaction; nothing ties a count to a response.
arrivals = Table(
    "arrivals",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("hour", DateTime(timezone=True), primary_key=True),  # the start of the hour
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,  # see the note at the top
)

# Per questionnaire item and wave, what everyone did there, summed when each survey ended
# (submitted, cancelled or expired): shown, answered, changed on coming back, skipped, and
# abandoned there (the survey ended unsubmitted on that item), and a histogram of seconds on
# the item (bands of scoring.paradata.ITEM_SECONDS_EDGES: time_band_0 is the fastest).
item_paradata = Table(
    "item_paradata",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("questionnaire_id", ForeignKey("questionnaires.id"), primary_key=True),
    Column("question_id", String(60), primary_key=True),
    Column("shown", Integer, nullable=False, server_default="0"),
    Column("answered", Integer, nullable=False, server_default="0"),
    Column("changed", Integer, nullable=False, server_default="0"),
    Column("skipped", Integer, nullable=False, server_default="0"),
    Column("abandoned", Integer, nullable=False, server_default="0"),
    *(
        Column(f"time_band_{band}", Integer, nullable=False, server_default="0")
        for band in range(ITEM_TIME_BANDS)
    ),
    sqlite_with_rowid=False,  # see the note at the top
)

roles = Table(
    "roles",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("role", String(20), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=True),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    # Officials are not anonymous: the label the admin gave the link ("Bupati"), and the link.
    Column("label", String(80), nullable=True),
    Column("grant_id", Integer, nullable=True),
    CheckConstraint("role IN ('leadership', 'unit_head')", name="role"),
)

# One-time links that grant a role to whoever opens them.
role_grants = Table(
    "role_grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used", Boolean, nullable=False, server_default="0"),
    # Who the link is for, as the admin wrote it ("Kadis Kesehatan"); shown by /akses.
    Column("label", String(80), nullable=True),
    CheckConstraint("role IN ('leadership', 'unit_head')", name="role"),
)

# Leadership chats that receive scheduled reports. Chat ids of groups/officials, not respondents.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False, unique=True),
    Column("language", String(5), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("paused_reason", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The official who subscribed it (or resumed it last): their pseudonym, so revoking
    # their role pauses what they set up. NULL for rows from before issue 20.
    Column("created_by", String(64), nullable=True),
)

# Corrections per wave, with history: the newest row is in force.
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("integrity", Float, nullable=False),
    Column("prevalence", Float, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("integrity >= 0 AND prevalence >= 0", name="non_negative"),
)

# What a subscribed chat receives and when: rows, turned into timers at start-up (never pickled).
schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscription_id", ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # digest, report, final
    # A standard five-field crontab; NULL for the final report, which follows a wave's closing.
    Column("cron", String(100), nullable=True),
    Column("timezone", String(60), nullable=False, server_default="Asia/Jakarta"),
    # Fire times at or before this moment (creation or last change) are never sent.
    Column("since", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscription_id", "kind"),
    CheckConstraint("kind IN ('digest', 'report', 'final')", name="kind"),
    CheckConstraint("(kind = 'final') = (cron IS NULL)", name="cron"),
)

# One row per (schedule, fire time): the lease that makes a push exactly-once across bot
# processes (only one INSERT wins the unique constraint), and the log of what became of it.
scheduled_pushes = Table(
    "scheduled_pushes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("schedule_id", ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    Column("fire_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False),
    # What a digest reported (wave and submitted count), to tell "nothing new" next time.
    Column("fingerprint", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("schedule_id", "fire_at"),
    CheckConstraint(
        "status IN ('claimed', 'sent', 'unchanged', 'skipped', 'idle', 'paused', 'failed')",
        name="status",
    ),
)

# Follow-up plans (tindak lanjut, issue 13): actions per unit, tied to a weak dimension or a
# KPK recommendation. `who` is a role title ("Kepala Bidang Pengadaan"), never a person's id.
# `version` counts changes, so two officials editing one action cannot overwrite each other.
actions = Table(
    "actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("dimension", String(40), nullable=True),
    Column("recommendation", Text, nullable=False, server_default=""),
    Column("what", Text, nullable=False),
    Column("who", String(120), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(12), nullable=False, server_default="planned"),
    Column("note", Text, nullable=False, server_default=""),
    # Telegram file id of an evidence document (a file reference, not a person).
    Column("document_file_id", String(200), nullable=True),
    # What the evidence file is (issue 22): "document" or "photo"; NULL before, a document.
    Column("evidence_kind", String(10), nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('planned', 'in_progress', 'done', 'dropped')", name="status"),
)
Index("ix_actions_unit_due", actions.c.unit_id, actions.c.due_on)

# A follow-up dialogue in progress (/tindaklanjut): one row per official, deleted when the
# action is saved or the dialogue cancelled. Holds no answers; the pseudonym is an official's.
action_drafts = Table(
    "action_drafts",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("step", String(10), nullable=False),  # what, who, due, note
    Column("dimension", String(40), nullable=True),
    Column("what", Text, nullable=True),
    Column("who", String(120), nullable=True),
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), nullable=True),
    Column("action_version", Integer, nullable=True),
    Column("language", String(5), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("step IN ('what', 'who', 'due', 'note')", name="step"),
)

# A closed wave's published report, frozen (issue 22): number 1 is the final report as it was
# when the wave closed; each later row is a dated revision (a correction, or the wave closed
# again after a reopening), and the newest is in force. `report_json` is the whole `Report`
# (scoring/frozen.py): the numbers as shown, counts per unit and group, no answers and no
# person; `changes_json` lists what this revision changed from the one before.
report_revisions = Table(
    "report_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("report_json", Text, nullable=False),
    Column("changes_json", Text, nullable=False, server_default="[]"),
    Column("correction_id", ForeignKey("corrections.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("wave_id", "number"),
    CheckConstraint(
        "kind IN ('final', 'correction', 'reclosed', 'exclusion', 'restored')", name="kind"
    ),
)

# The responses each unit × group needs (`needed`), fixed when the wave opens so targets do
# not move overnight. unit_code '' is the institution.
wave_targets = Table(
    "wave_targets",
    metadata,
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_code", String(40), primary_key=True),
    Column("grp", String(10), primary_key=True),
    Column("needed", Integer, nullable=False),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    CheckConstraint("needed >= 0", name="needed"),
)

# Responses the inspectorate left out of a wave's index after a survey-integrity signal
# (issue 24), with who decided, when and why, and whether they were restored. `created_by`
# is the decider ("admin:" and their 12-character pseudonym code, or "cli:" and the shell
# user), never a respondent. A 'pending' row is a chat dialogue waiting for its reason or
# its confirmation: its responses are found again when it is confirmed, and must still match
# `fingerprint` (a hash of the set the officer was shown).
integrity_exclusions = Table(
    "integrity_exclusions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("fingerprint", String(16), nullable=False),
    Column("status", String(10), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("count", Integer, nullable=False, server_default="0"),
    Column("created_by", String(80), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("restored_by", String(80), nullable=True),
    Column("restored_at", DateTime(timezone=True), nullable=True),
    Column("restore_reason", Text, nullable=True),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    CheckConstraint("kind IN ('burst', 'uniform', 'rushing', 'contradiction')", name="kind"),
    CheckConstraint("status IN ('pending', 'active', 'restored')", name="status"),
)
Index("ix_integrity_exclusions_wave_id", integrity_exclusions.c.wave_id)

# Which responses an exclusion leaves out: random response ids only (no time, no person),
# stored in key order (WITHOUT ROWID; see the note at the top), kept after a restore as the
# trail of what was excluded.
excluded_responses = Table(
    "excluded_responses",
    metadata,
    Column(
        "exclusion_id",
        ForeignKey("integrity_exclusions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("response_id", ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    sqlite_with_rowid=False,
)
