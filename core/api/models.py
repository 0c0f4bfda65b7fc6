"""Tables of the API component (own migration history: workdesk.api.migrations)."""
from __future__ import annotations

from ..models import LoginFailure

# The password-failure ledger started here with the token endpoint's throttle; it now serves every
# password entry (workdesk.throttle), and its table keeps this migration history.
MODELS = [LoginFailure]
