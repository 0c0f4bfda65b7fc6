"""Numbered migrations of the dispatch plugin (``NNNN_name.py`` with ``upgrade(migrator, database)``)."""
