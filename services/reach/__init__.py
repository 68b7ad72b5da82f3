"""Reaching people: reminders to those who stopped a survey, outreach broadcasts to those who
opted in, the chat ids kept to message people first (`contacts`), invitation uptake and the
`/progres` funnel.

Reminders and outreach each have an opt-out; the package face names them apart."""

from services.reach.contacts import cipher_for, remember, remember_survey
from services.reach.contacts import opt_out as stop_reminders
from services.reach.funnel import Funnel, FunnelLine, funnel_text, load_funnel
from services.reach.outreach import BUTTON_PATTERN as OUTREACH_BUTTONS
from services.reach.outreach import OPT_OUT_DATA as OUTREACH_OPT_OUT
from services.reach.outreach import (
    Broadcast,
    PhotoInfo,
    broadcast_items,
    caption_fits,
    check_photo,
    draft_broadcast,
    opt_in,
    opt_in_data,
    recipients_count,
    send_broadcast,
)
from services.reach.outreach import opt_out as stop_outreach
from services.reach.reminders import BUTTON_PATTERN as REMINDER_BUTTONS
from services.reach.reminders import CONTINUE_DATA as REMINDER_CONTINUE
from services.reach.reminders import OPT_OUT_DATA as REMINDER_OPT_OUT
from services.reach.reminders import ReminderPolicy, Reminders
from services.reach.uptake import uptake_for, uptake_lines, uptake_text

__all__ = [
    "OUTREACH_BUTTONS",
    "OUTREACH_OPT_OUT",
    "REMINDER_BUTTONS",
    "REMINDER_CONTINUE",
    "REMINDER_OPT_OUT",
    "Broadcast",
    "Funnel",
    "FunnelLine",
    "PhotoInfo",
    "ReminderPolicy",
    "Reminders",
    "broadcast_items",
    "caption_fits",
    "check_photo",
    "cipher_for",
    "draft_broadcast",
    "funnel_text",
    "load_funnel",
    "opt_in",
    "opt_in_data",
    "recipients_count",
    "remember",
    "remember_survey",
    "send_broadcast",
    "stop_outreach",
    "stop_reminders",
    "uptake_for",
    "uptake_lines",
    "uptake_text",
]
