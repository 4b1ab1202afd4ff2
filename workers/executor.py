"""The executor: arbitration of signals, risk, the order path and the broker, under the lease."""

from app.bootstrap import Role
from workers._serve import main

if __name__ == "__main__":
    main(Role.EXECUTOR)
