"""Survey administration: units, waves, personal invitations and unit links with their QR
posters (`survey`), questionnaires in the database, the wave calendar, role holders and their
links, roster files sent to the bot and the next wave's links (`rosters`, `renewal`), what the
inspectorate runs from Telegram (`inspectorate`), and the running bot's own care of its
database (`database_guard`, `backups`)."""

from services.admin.backups import NightlyBackup
from services.admin.database_guard import DatabaseGuard
from services.admin.inspectorate import BUTTON_PATTERN as ADMIN_BUTTONS
from services.admin.inspectorate import Inspectorate, Reply
from services.admin.poster import write_qr_poster
from services.admin.questionnaires import (
    CatalogueEntry,
    catalogue,
    check_choices,
    choice_text,
    origin_of,
    parse_choices,
    questionnaire_named,
    store_questionnaire,
)
from services.admin.renewal import next_target, renew_invitations
from services.admin.roles import (
    REVOKED_REASON,
    Holder,
    LabelError,
    PendingLink,
    Revocation,
    clean_label,
    find,
    holders,
    pending_links,
    revoke,
    withdraw_link,
)
from services.admin.rosters import BUTTON_PATTERN as ROSTER_BUTTONS
from services.admin.rosters import MAX_BYTES, Rosters, button_data, guess_group, looks_like_csv
from services.admin.survey import (
    create_invitations,
    import_units_csv,
    invitation_target,
    open_wave,
    read_roster,
    resolve_wave,
    write_invitations_csv,
)
from services.admin.wave_calendar import run_calendar

__all__ = [
    "ADMIN_BUTTONS",
    "MAX_BYTES",
    "REVOKED_REASON",
    "ROSTER_BUTTONS",
    "CatalogueEntry",
    "DatabaseGuard",
    "Holder",
    "Inspectorate",
    "LabelError",
    "NightlyBackup",
    "PendingLink",
    "Reply",
    "Revocation",
    "Rosters",
    "button_data",
    "catalogue",
    "check_choices",
    "choice_text",
    "clean_label",
    "create_invitations",
    "find",
    "guess_group",
    "holders",
    "import_units_csv",
    "invitation_target",
    "looks_like_csv",
    "next_target",
    "open_wave",
    "origin_of",
    "parse_choices",
    "pending_links",
    "questionnaire_named",
    "read_roster",
    "renew_invitations",
    "resolve_wave",
    "revoke",
    "run_calendar",
    "store_questionnaire",
    "withdraw_link",
    "write_invitations_csv",
    "write_qr_poster",
]
