"""Journal: the durable record of every document, its state transitions, claims and the outbox of notices."""
