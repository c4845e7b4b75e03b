"""Monitoring: Prometheus metrics and what operators watch."""
