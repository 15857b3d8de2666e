"""L2C — leads to cash: leads and the pool, pipeline stages, orders, payments, receivables."""
