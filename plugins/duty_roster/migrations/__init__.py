"""Numbered migrations of the duty roster plugin (``NNNN_name.py`` with ``upgrade(migrator, database)``)."""
