"""The REMD protocol: delivery client, callback endpoints, the REMD-compatible SOAP front door for
MIS, the ``remd-soap`` notice channel, and (in :mod:`adapters.remd.sandbox`) a simulated REMD.
``PLUGIN`` is what the core sees.

See docs/remd.md. The WSDL/XSD in wsdl/remd/ are the project's reconstruction (no official files
are public).
"""

from adapters.remd.adapter import SERVICE_PATH, Adapter, endpoint_url
from adapters.remd.callbacks import CALLBACK_PATH, GET_DOCUMENT_FILE_PATH, DocumentSource
from adapters.remd.frontdoor import TOKEN_HEADER, ClientDirectory, FrontDoor, FrontDoorCore
from adapters.remd.notify import CHANNEL, remd_soap_sender
from adapters.remd.plugin import PLUGIN
from adapters.remd.settings import RemdSettings

__all__ = [
    "CALLBACK_PATH",
    "CHANNEL",
    "GET_DOCUMENT_FILE_PATH",
    "PLUGIN",
    "SERVICE_PATH",
    "TOKEN_HEADER",
    "Adapter",
    "ClientDirectory",
    "DocumentSource",
    "FrontDoor",
    "FrontDoorCore",
    "RemdSettings",
    "endpoint_url",
    "remd_soap_sender",
]
