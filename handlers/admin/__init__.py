"""What admins do in Telegram: the inspectorate's commands and buttons (`inspectorate`) and a
roster CSV sent to the bot (`rosters`); the services are `services.admin`."""

from handlers.admin.inspectorate import (
    BROADCAST_CAPTION,
    admins_only,
    on_access,
    on_admin_button,
    on_broadcast,
    on_broadcast_photo,
    on_uptake,
    on_waves,
)
from handlers.admin.rosters import (
    CSV_DOCUMENT,
    on_group_document,
    on_roster_button,
    on_roster_document,
)

__all__ = [
    "BROADCAST_CAPTION",
    "CSV_DOCUMENT",
    "admins_only",
    "on_access",
    "on_admin_button",
    "on_broadcast",
    "on_broadcast_photo",
    "on_group_document",
    "on_roster_button",
    "on_roster_document",
    "on_uptake",
    "on_waves",
]
