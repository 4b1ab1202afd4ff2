"""A shard worker: owns TRADER_SHARD_ID's tick stream; bars, indicators, strategies, exits."""

from app.bootstrap import Role
from workers._serve import main

if __name__ == "__main__":
    main(Role.SHARD)
