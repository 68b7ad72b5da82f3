"""What the bot does: respondent flow, reports, access, admin, pushes.

No Telegram types here, except in `services.pushes.delivery`.
"""
