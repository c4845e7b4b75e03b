"""mse-gateway: interoperability gateway for medico-social expertise (MSE) documents."""

__all__ = ["__version__"]

__version__ = "0.1.0"
