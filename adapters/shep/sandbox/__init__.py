"""The ШЭП twin with the АИС ЦБДИ twin behind it, and their fault profiles (docs/shep.md, "Twins")."""

from adapters.shep.sandbox.profile import Delay, FaultProfile, Probabilities
from adapters.shep.sandbox.twin import SERVICE_PATH, ShepTwin, create_twin, shep_schema, twin_of

__all__ = [
    "SERVICE_PATH",
    "Delay",
    "FaultProfile",
    "Probabilities",
    "ShepTwin",
    "create_twin",
    "shep_schema",
    "twin_of",
]
