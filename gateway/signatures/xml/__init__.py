"""XML signature building blocks: the SMEV 3 transform (``smev_transform``)."""

from gateway.signatures.xml.smev_transform import (
    ALGORITHM_URN,
    DEFAULT_FLAVOUR,
    Flavour,
    SmevTransformError,
    smev_transform,
)

__all__ = ["ALGORITHM_URN", "DEFAULT_FLAVOUR", "Flavour", "SmevTransformError", "smev_transform"]
