"""A plugin module that fails at import time, like a plugin whose dependency is missing."""
raise RuntimeError("this plugin is broken at import time")
