"""A dispatch-like test plugin (assignment rank 10): urgent work goes to the department's first candidate."""
from workdesk import Plugin, hookimpl


class UrgentRulesPlugin(Plugin):
    """Urgent rules"""
    name = "urgentrules"
    assignment_rank = 10

    @hookimpl
    def propose_assignee(self, task, candidates):
        return candidates[0] if task.priority == "urgent" and candidates else None
