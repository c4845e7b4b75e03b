"""ФГИС ЕАВИИАС (the MSE bureaus' information system) as the business content of an SMEV 3
instance (``content_profile = "eaviias"``): the referral sent by SendRequest, the bureau's notices
taken by GetResponse. See docs/eaviias.md.

- :mod:`adapters.smev3.eaviias.notices` — the notice types and what each means to the journal
  (the one mapping);
- :mod:`adapters.smev3.eaviias.content` — build/parse the stand-in schema's XML
  (``eaviias-sandbox-1.0.xsd``);
- :mod:`adapters.smev3.eaviias.profile` — the adapter's side: request content, notice → outcome
  or progress with KSI milestones.
"""
