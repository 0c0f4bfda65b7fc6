"""Workdesk's own test configuration; the shared fixtures come from workdesk.testing (pytest11)."""
