"""Pure types and rules: no I/O, no clocks, no settings."""
