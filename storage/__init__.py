"""SQL: the tables and the queries, one module per feature."""
