"""Dashboard benchmark: page render and callback latency in headless Chromium (``python -m dashboard.bench``)."""
