"""Alembic migrations of the register, shipped in the package and applied when it is opened."""
