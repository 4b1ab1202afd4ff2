"""A fake TWS / IB Gateway speaking the TWS API socket protocol."""
