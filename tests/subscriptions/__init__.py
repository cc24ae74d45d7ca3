"""/subscription: money and commission rules, the look-up, its messages."""
