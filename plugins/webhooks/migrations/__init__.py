"""Schema history of the webhooks plugin's tables."""
