"""report.html in a real browser (headless Chromium): what a reader sees, not what the HTML source says."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from browser import broken_images, chromium, chromium_paths, fonts_of, is_cjk_family, open_page, visible_text
from conftest import ROOT

pytestmark = pytest.mark.browser
IN_CI = os.environ.get("CI") == "true"
REAL_TAGGED = ROOT / "report" / "tagged"  # where `classifier report` keeps the real corpora once tagged


def require_chromium():
    """Skip outside CI when there is no browser; in CI a missing browser is a failure (.ci/run installs it)."""
    binary, driver = chromium_paths()
    try:
        import selenium  # noqa: F401
    except ImportError:
        binary = None
    if binary and driver:
        return
    reason = "headless check needs chromium, chromium-driver (Debian) and selenium (pip, dev extra)"
    if IN_CI:
        pytest.fail(f"CI=true but {reason} are missing")
    pytest.skip(reason)


def run_report(out: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "classifier", "report", "--out", str(out), *args], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return result


def assert_reads_well(page: Path) -> None:
    with chromium() as driver:
        open_page(driver, page)
        assert broken_images(driver) == []
        text = visible_text(driver)
        assert "<br" not in text and "{'" not in text and not re.search(r"\bnan\b", text, re.IGNORECASE)
        assert "Primary network type of SME-targeted policies" in text and "52/33/12/3%" in text
        assert "Orientation of SME-targeted policies" in text and "lead-firm" in text and "difference" in text
        chinese = fonts_of(driver, "[lang='zh-CN']")
        assert chinese, "no Chinese passage on the page"
        for families in chinese:
            assert any(is_cjk_family(f) for f in families), f"Chinese text drawn without a CJK font: {families}"


def test_sample_report_reads_well_in_a_browser(tmp_path):
    require_chromium()
    empty = tmp_path / "no-data"
    empty.mkdir()
    run_report(tmp_path / "r", {"CLASSIFIER_DATA": str(empty)}, "--bootstrap", "100")
    assert_reads_well(tmp_path / "r" / "report.html")


@pytest.mark.skipif(not (REAL_TAGGED / "cn.parquet").exists() or not (REAL_TAGGED / "oecd.parquet").exists(),
                    reason="real corpora not tagged yet (run `classifier report` with CLASSIFIER_DATA once)")
def test_real_report_reads_well_in_a_browser(tmp_path):
    require_chromium()
    run_report(tmp_path / "r", {}, "--corpus", f"cn={REAL_TAGGED / 'cn.parquet'}",
               "--corpus", f"oecd={REAL_TAGGED / 'oecd.parquet'}", "--bootstrap", "200")
    assert_reads_well(tmp_path / "r" / "report.html")
