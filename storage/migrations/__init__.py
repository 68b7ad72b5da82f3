"""Alembic migrations, shipped inside the package so `spibot db upgrade` needs no alembic.ini."""
