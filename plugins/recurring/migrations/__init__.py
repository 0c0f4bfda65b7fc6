"""Numbered migrations of the recurring plugin (``NNNN_name.py`` with ``upgrade(migrator, database)``)."""
