"""Alpaca: orders and account through alpaca-py's REST clients, trade_updates and market data
through the same wire protocols driven with `websockets` (see stream.py for why).

Bootstrap builds `AlpacaBroker`, `AlpacaFeed` and `AlpacaBars` from one `AlpacaConfig` and one
RateLimiter (app.brokers.ratelimit) shared by everything that spends the account's REST budget.
"""
