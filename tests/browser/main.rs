//! The browser tests (headless Chromium driven by chromedriver), one binary.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod console_browser;
mod support_browser;
