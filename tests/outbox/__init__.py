"""The outbox: rows, the worker and its scheduling."""
