"""Persistence: SQLAlchemy models, engine and session factory, unit of work, repositories."""
