"""``python -m service …``: the service commands without the main ``dtscope`` CLI."""

from service.cli import cli

cli()
