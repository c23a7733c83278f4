"""The seeded SYNTHETIC demo: histories, scenarios and scenario metrics generated from a seed.

No number it makes is real; every row says so in ``source``. Street lists and scenario templates are data
(``data/registry/demo/``), read by :mod:`~pipelines.demo.generator`.
"""

__all__ = ["generator"]
