"""Numbered migrations of the discussions plugin (``NNNN_name.py`` with ``upgrade(migrator, database)``)."""
