"""Every role in one process, on embedded defaults."""

from app.bootstrap import Role
from workers._serve import main

if __name__ == "__main__":
    main(Role.MONOLITH)
