"""Self-hosted algorithmic trading cluster for US stocks."""
