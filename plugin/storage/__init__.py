"""Storage: SQLAlchemy 2 models, sessions, Alembic migrations and secrets at rest."""
