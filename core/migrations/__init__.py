"""The core's schema history (see core.migrate)."""
