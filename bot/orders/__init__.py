"""Orders with customer confirmation links: the rules (tokens, expiry, states) and the flows."""
