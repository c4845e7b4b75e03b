"""Peers as plug-ins: the contract every adapter package implements, the registry, and the composition into the app."""
