"""CSV imports of customers and subscriptions."""
