"""Run a command with the settings police-dbt gives dbt (core.config.dbt_environment).

For tools that compile the dbt project themselves, such as sqlfluff's dbt templater in ``make lint``:
``dbt/profiles.yml`` reads its settings from the environment with no defaults of its own.

    python -m police_dev.dbt_env sqlfluff lint models
"""

from __future__ import annotations

import os
import sys

from police_assets.core import config


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m police_dev.dbt_env COMMAND [ARGS...]")
    os.execvpe(argv[0], argv, config.environment_with(config.dbt_environment()))


if __name__ == "__main__":
    main(sys.argv[1:])
