"""Migrations of the API component's tables (numbered NNNN_name.py, see workdesk.migrate)."""
