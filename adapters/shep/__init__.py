"""The ШЭП protocol (``protocol = "shep"``): Kazakhstan's e-government gateway, SyncChannel and
AsyncChannel v10, WS-Security on every message, towards АИС ЦБДИ for form 031/у (docs/shep.md)."""
