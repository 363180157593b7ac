"""Storage through SQLModel: SQLite by default, PostgreSQL via DATABASE_URL; schema by Alembic migrations."""
