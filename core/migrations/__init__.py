"""The core's schema history (see workdesk.migrate)."""
