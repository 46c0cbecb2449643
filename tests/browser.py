"""Headless Chromium for checking report.html as a reader sees it (tests and benchmarks/screenshot_report.py)."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

# As root and without a network: no sandbox, no GPU, no background downloads, a fresh profile.
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--window-size=1200,900"]
CJK_FAMILY_WORDS = ("CJK", "WenQuanYi", "Source Han", "PingFang", "YaHei", "Hiragino", "Droid Sans Fallback", "UMing")


def chromium_paths() -> tuple[str | None, str | None]:
    return (shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome"),
            shutil.which("chromedriver"))


@contextmanager
def chromium():
    """A Selenium driver on the system's Chromium and chromedriver (nothing is downloaded)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium_paths()
    if not binary or not driver_path:
        raise RuntimeError("chromium and chromedriver are needed (Debian packages chromium, chromium-driver)")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def open_page(driver, page: Path) -> None:
    driver.get(Path(page).resolve().as_uri())
    driver.execute_script("return document.fonts.ready.then(() => true)")


def broken_images(driver) -> list[str]:
    return driver.execute_script("return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
                                 ".map(i => i.alt || i.src.slice(0, 40))")


def visible_text(driver) -> str:
    return driver.execute_script("return document.body.innerText")


def fonts_of(driver, selector: str) -> list[list[str]]:
    """Per matching element, the platform font families that actually drew its text (DevTools protocol)."""
    driver.execute_cdp_cmd("DOM.enable", {})
    driver.execute_cdp_cmd("CSS.enable", {})
    root = driver.execute_cdp_cmd("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    nodes = driver.execute_cdp_cmd("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]
    return [[font["familyName"] for font in driver.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": n})["fonts"]]
            for n in nodes]


def is_cjk_family(name: str) -> bool:
    return any(word.lower() in name.lower() for word in CJK_FAMILY_WORDS)


def screenshot(driver, page: Path, target: Path, width: int = 1200) -> Path:
    """A full-page PNG of the report."""
    open_page(driver, page)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(height, 12000))
    Path(target).write_bytes(driver.get_screenshot_as_png())
    return Path(target)
