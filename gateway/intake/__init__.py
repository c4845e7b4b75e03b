"""Intake: how a document enters the gateway (REST and SOAP front doors, API clients) and is made durable."""
