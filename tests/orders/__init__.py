"""Orders: rules, messages, commands and flows on the real database."""
