"""Dashboard benchmark: page render and callback latency in headless Chromium (``python -m dashboard.bench``).

``pages`` is the table of pages the bench and the browser tests both open.
"""

__all__ = ["pages"]
