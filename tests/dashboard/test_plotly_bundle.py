"""The vendored plotly.js partial bundle: what it is, that it is the one documented, and in sync with plotly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs_version

from dashboard.plotly_bundle import ASSETS, ASSETS_IGNORE, BUNDLE, bundle_path, bundle_sha256, bundle_version


def test_bundle_is_the_documented_file() -> None:
    readme = (ASSETS / "README.md").read_text(encoding="utf-8")
    recorded = re.search(r"sha256 of the file \| `([0-9a-f]{64})`", readme)
    assert recorded, "assets/README.md must record the bundle's sha256"
    assert bundle_sha256() == recorded.group(1), (
        "the bundle changed: update assets/README.md (how: see there)"
    )
    assert f"plotly.js **{bundle_version()}**" in readme
    assert f"{bundle_path().stat().st_size:,} bytes" in readme


def test_bundle_is_the_plotly_js_version_of_the_installed_plotly_package() -> None:
    # The figures are built by the plotly Python package for its own plotly.js version.
    assert bundle_version() == get_plotlyjs_version(), (
        f"plotly (Python) targets plotly.js {get_plotlyjs_version()} but the vendored bundle is "
        f"{bundle_version()}: update dashboard/assets/plotly-cartesian.min.js as assets/README.md explains"
    )


def test_bundle_keeps_its_licence_header_and_is_not_auto_included() -> None:
    head = bundle_path().read_text(encoding="utf-8")[:300]
    assert "Licensed under the MIT license" in head and "Plotly, Inc." in head
    assert (ASSETS / "plotly-LICENSE.txt").read_text(encoding="utf-8").startswith("MIT License")
    assert re.search(ASSETS_IGNORE, BUNDLE)
    assert not re.search(ASSETS_IGNORE, "spa_links.js")


def test_version_parser_refuses_a_file_without_the_header(tmp_path: Path) -> None:
    other = tmp_path / "x.js"
    other.write_text("/* plotly.js v3.7.0 */", encoding="utf-8")
    with pytest.raises(ValueError, match="licence header"):
        bundle_version(other)
