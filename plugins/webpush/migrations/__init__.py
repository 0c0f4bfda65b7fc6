"""Numbered migrations of the webpush plugin (``NNNN_name.py`` with ``upgrade(migrator, database)``)."""
