"""Workdesk's own test configuration; the shared fixtures come from core.testing (pytest11)."""
