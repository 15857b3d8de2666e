"""CPQ — configure, price, quote: catalog, price books, pricing, discounts, approvals, quotes."""
