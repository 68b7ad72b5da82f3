"""Scheduled pushes: the scheduler, cron presets, composing a push, and bulk delivery."""
