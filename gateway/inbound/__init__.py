"""The inbound direction: documents *addressed to* the organisations the gateway serves (MSE
results and return notices, later ЕАВИИАС notices and ЦБДИ conclusions), from whichever peer
brings them, verified, linked to the referral they answer, journalled and delivered to the MIS.

Not to be confused with :mod:`gateway.journal.inbox` (the *peer inbox*: peers' answers about our
own submissions). See docs/inbound.md.
"""
