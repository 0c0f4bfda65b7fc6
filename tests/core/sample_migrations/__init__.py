"""Migrations of the core tests' sample plugins (the recorder and the slow plugin share one table)."""
