"""Outages: intake, rules, messages, commands and flows on the real database."""
