"""The tick recorder: every shard stream into the tick store (QuestDB or Parquet)."""

from app.bootstrap import Role
from workers._serve import main

if __name__ == "__main__":
    main(Role.RECORDER)
