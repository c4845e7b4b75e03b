"""Delivery: routing a validated document to its peer, classifying the outcome, limits and reconciliation."""
