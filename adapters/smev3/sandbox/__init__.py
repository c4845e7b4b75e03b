"""The SMEV 3 sandbox twin (a simulated SMEV 3 node with queues and a provider behind it) and its
fault profiles. See docs/smev3.md, "Sandbox twin"."""

from adapters.smev3.sandbox.profile import Delay, FaultProfile, Probabilities
from adapters.smev3.sandbox.twin import (
    ANSWER_NAMESPACE,
    PROVIDER,
    SERVICE_PATH,
    TWIN_KEY,
    Smev3Twin,
    create_twin,
    smev3_schema,
)

__all__ = [
    "ANSWER_NAMESPACE",
    "PROVIDER",
    "SERVICE_PATH",
    "TWIN_KEY",
    "Delay",
    "FaultProfile",
    "Probabilities",
    "Smev3Twin",
    "create_twin",
    "smev3_schema",
]
