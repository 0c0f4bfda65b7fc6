"""Numbered migrations of the templates plugin."""
