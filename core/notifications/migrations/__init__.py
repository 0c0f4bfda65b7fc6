"""Schema history of the notification tables."""
