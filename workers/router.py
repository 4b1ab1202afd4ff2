"""The stream router: market data in, validated, partitioned, batched onto shard streams."""

from app.bootstrap import Role
from workers._serve import main

if __name__ == "__main__":
    main(Role.ROUTER)
