"""Service functions: the one path by which the API, pages, admin panel, worker and plugins change data."""
