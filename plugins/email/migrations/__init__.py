"""Schema history of the email plugin's tables."""
