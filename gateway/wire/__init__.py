"""Wire code shared by every adapter: the safe XML parser, SOAP envelopes and faults, WS-Addressing, HTTP transport."""
