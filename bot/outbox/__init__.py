"""The outbox: Slack messages written as rows in the transaction that decides to send them, and
the worker that delivers them afterwards."""
