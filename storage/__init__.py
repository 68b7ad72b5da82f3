"""Storage: the database behind a small typed async API (SQLite or PostgreSQL).

Import the module that defines what you use (`from storage.waves import get_wave`):
each table family module holds its tables, its dataclasses and its queries together.
Every function takes the `AsyncEngine` (`Database.engine`) first. Nothing here stores
a Telegram id: people are pseudonyms.
"""
