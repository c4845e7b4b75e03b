"""Notices: what a sender is told when its submission reaches a final state, and their delivery."""
