"""First-party Workdesk plugins; each package is registered through the workdesk.plugins entry point."""
