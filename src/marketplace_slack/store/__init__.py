"""Persistence: tables, repository and migrations."""
