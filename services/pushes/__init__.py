"""Scheduled pushes: the scheduler, cron presets, composing a push, bulk delivery, and the
chats' subscriptions to them (`subscriptions`)."""
