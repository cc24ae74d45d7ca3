"""Unit tests of the thin Slack listeners: fake ack, respond and client, a real database."""
