"""Validation: the stage that checks a received document (signatures, roles, FLK) and routes it."""
