"""The ``dtscope`` command line (Typer): settings enter here once and flow down as arguments."""

__all__ = ["app"]
