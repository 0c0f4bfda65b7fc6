"""marshmallow's own field messages in the reader's language.

marshmallow formats its messages in English when a field refuses a value ("Longer than maximum length
200."). :func:`translate_message` recognises each of those finished sentences by its template and
renders the same sentence from our catalogs, the values it carried (a limit, the choices, the input)
put back in. A message marshmallow does not produce (our own, already translated) passes unchanged.
"""
from __future__ import annotations

import re
from typing import Callable

from flask_babel import gettext


def N_(message: str) -> str:
    """Marks ``message`` for extraction (Babel's ``N_`` keyword); it is translated when used."""
    return message


# marshmallow's English template (``{name}`` for a value) -> our message (``%(name)s``). The Range
# validator builds its sentence from an operator word; each combination is a whole sentence here, so a
# translation never has to assemble "greater than" into a sentence of its own grammar.
TEMPLATES: dict[str, str] = {
    "Missing data for required field.": N_("Missing data for required field."),
    "Field may not be null.": N_("Field may not be null."),
    "Invalid value.": N_("Invalid value."),
    "Invalid input.": N_("Invalid input."),
    "Invalid type.": N_("Invalid type."),
    "Invalid input type.": N_("Invalid input type."),
    "Unknown field.": N_("Unknown field."),
    "Not a valid boolean.": N_("Not a valid boolean."),
    "Not a valid integer.": N_("Not a valid integer."),
    "Not a valid number.": N_("Not a valid number."),
    "Number too large.": N_("Number too large."),
    "Special numeric values (nan or infinity) are not permitted.":
        N_("Special numeric values (nan or infinity) are not permitted."),
    "Not a valid string.": N_("Not a valid string."),
    "Not a valid utf-8 string.": N_("Not a valid utf-8 string."),
    "Not a valid list.": N_("Not a valid list."),
    "Not a valid tuple.": N_("Not a valid tuple."),
    "Not a valid mapping type.": N_("Not a valid mapping type."),
    "Not a valid email address.": N_("Not a valid email address."),
    "Not a valid URL.": N_("Not a valid URL."),
    "Not a valid UUID.": N_("Not a valid UUID."),
    "Not a valid IP address.": N_("Not a valid IP address."),
    "Not a valid period of time.": N_("Not a valid period of time."),
    "Not a valid datetime.": N_("Not a valid datetime."),
    "Not a valid date.": N_("Not a valid date."),
    "Not a valid time.": N_("Not a valid time."),
    "Not a valid aware datetime.": N_("Not a valid aware datetime."),
    "Not a valid naive datetime.": N_("Not a valid naive datetime."),
    '"{input}" cannot be formatted as a datetime.': N_("\"%(input)s\" cannot be formatted as a datetime."),
    '"{input}" cannot be formatted as a date.': N_("\"%(input)s\" cannot be formatted as a date."),
    '"{input}" cannot be formatted as a time.': N_("\"%(input)s\" cannot be formatted as a time."),
    "String does not match expected pattern.": N_("String does not match expected pattern."),
    "Must be one of: {choices}.": N_("Must be one of: %(choices)s."),
    "Must be equal to {other}.": N_("Must be equal to %(other)s."),
    "One or more of the choices you made was not in: {choices}.":
        N_("One or more of the choices you made was not in: %(choices)s."),
    "One or more of the choices you made was in: {values}.":
        N_("One or more of the choices you made was in: %(values)s."),
    "Length must be between {min} and {max}.": N_("Length must be between %(min)s and %(max)s."),
    "Length must be {equal}.": N_("Length must be %(equal)s."),
    "Longer than maximum length {max}.": N_("Longer than maximum length %(max)s."),
    "Shorter than minimum length {min}.": N_("Shorter than minimum length %(min)s."),
    "Must be greater than {min}.": N_("Must be greater than %(min)s."),
    "Must be greater than or equal to {min}.": N_("Must be greater than or equal to %(min)s."),
    "Must be less than {max}.": N_("Must be less than %(max)s."),
    "Must be less than or equal to {max}.": N_("Must be less than or equal to %(max)s."),
    "Must be greater than or equal to {min} and less than or equal to {max}.":
        N_("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
    "Must be greater than {min} and less than {max}.":
        N_("Must be greater than %(min)s and less than %(max)s."),
    "Must be greater than or equal to {min} and less than {max}.":
        N_("Must be greater than or equal to %(min)s and less than %(max)s."),
    "Must be greater than {min} and less than or equal to {max}.":
        N_("Must be greater than %(min)s and less than or equal to %(max)s."),
}


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    # Even parts are literal text, odd ones the names of the values marshmallow put in.
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*)" for i, p in enumerate(parts)),
                      re.DOTALL)


_COMPILED: list[tuple[re.Pattern, str]] = [(_pattern(t), m) for t, m in TEMPLATES.items()]


def translate_message(text: str, translate: Callable[[str], str] = gettext) -> str:
    """``text`` in the current request's language when it is one of marshmallow's messages, else as it is."""
    for pattern, message in _COMPILED:
        match = pattern.fullmatch(text)
        if match:
            values = match.groupdict()
            return translate(message) % values if values else translate(message)
    return text
