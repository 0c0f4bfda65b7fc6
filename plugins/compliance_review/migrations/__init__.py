"""Numbered migrations of the compliance review plugin (``NNNN_name.py`` with ``upgrade(migrator, database)``)."""
