"""The one text search over tasks, used by the API's ``q``, the search page, the queue's filter and the
admin panel, so that the same words find the same tasks everywhere."""
from __future__ import annotations

import re

from peewee import ModelSelect

from .models import Task

# "#123" or "123" also finds task number 123 (ASCII digits only: "²" is a digit to str.isdigit but
# not a number; 18 digits stay below the 64-bit column limit of either database).
TASK_NUMBER = re.compile(r"#?([0-9]{1,18})")
MAX_QUERY_LENGTH = 200


def matching_tasks(query: ModelSelect, text: str) -> ModelSelect:
    """``query`` narrowed to tasks whose title or description contains ``text`` (case-insensitive), or
    whose number it is. Blank text leaves the query as it is."""
    text = (text or "").strip()[:MAX_QUERY_LENGTH]
    if not text:
        return query
    condition = Task.title.contains(text) | Task.description.contains(text)
    number = TASK_NUMBER.fullmatch(text)
    if number:
        condition |= Task.number == int(number.group(1))
    return query.where(condition)
