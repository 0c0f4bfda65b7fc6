"""A dispatch stand-in for the recurring tests: proposes the last candidate."""
from workdesk import Plugin, hookimpl


class LastCandidatePlugin(Plugin):
    """Last candidate

    Proposes the department member with the highest id.
    """
    name = "last_candidate"

    @hookimpl
    def propose_assignee(self, task, candidates):
        return candidates[-1] if candidates else None
