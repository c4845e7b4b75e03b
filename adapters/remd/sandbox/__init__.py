"""The REMD sandbox twin (a simulated REMD EGISZ) and its fault profiles."""

from adapters.remd.sandbox.profile import Delay, Fate, FaultProfile, Probabilities, SyncFault
from adapters.remd.sandbox.twin import TWIN_KEY, Registration, RemdTwin, Verifier, create_twin

__all__ = [
    "TWIN_KEY",
    "Delay",
    "Fate",
    "FaultProfile",
    "Probabilities",
    "Registration",
    "RemdTwin",
    "SyncFault",
    "Verifier",
    "create_twin",
]
