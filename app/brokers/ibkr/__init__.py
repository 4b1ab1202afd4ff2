"""Interactive Brokers through ib_async: broker, market-data feed and the connection they share."""
