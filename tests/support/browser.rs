//! Debian's Chromium driven through ChromeDriver, for the browser tests and the
//! time-to-card bench. Shared by `tests/` and `bench/` through `#[path]`.

// Each user of this module needs a different part of it.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The phone-sized window every journey runs in.
pub const WINDOW: (u32, u32) = (390, 844);

pub fn chromium_bin() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from)
}

pub fn chromedriver_bin() -> PathBuf {
    std::env::var_os("CHROMEDRIVER").map_or_else(|| "/usr/bin/chromedriver".into(), PathBuf::from)
}

/// Why the browser cannot run here, if it cannot.
pub fn missing_browser() -> Option<String> {
    [chromium_bin(), chromedriver_bin()]
        .into_iter()
        .find(|p| !p.exists())
        .map(|p| {
            format!(
                "{} not found (scripts/install-tools.sh --test installs it)",
                p.display()
            )
        })
}

/// A missing prerequisite (Chromium, ChromeDriver, the built app) fails the test unless
/// the person running it asked to skip the browser tests (`SKIP_BROWSER=1`); then it says
/// loudly that it skipped (and `make test` names the skip).
pub fn skip_or_fail(test: &str, why: &str) {
    let skip =
        std::env::var("SKIP_BROWSER").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    if !skip {
        panic!("{test}: {why} (or skip the browser tests on purpose with SKIP_BROWSER=1)");
    }
    eprintln!("SKIPPED {test} (SKIP_BROWSER=1): {why}");
}

pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `goog:chromeOptions` for a fresh headless profile in a phone-sized window.
pub fn chrome_options(user_data_dir: &Path) -> serde_json::Value {
    chrome_options_at(user_data_dir, WINDOW)
}

/// `goog:chromeOptions` for a fresh headless profile in a `(width, height)` CSS px phone.
pub fn chrome_options_at(user_data_dir: &Path, (w, h): (u32, u32)) -> serde_json::Value {
    serde_json::json!({
        "binary": chromium_bin(),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-dev-shm-usage",
            format!("--user-data-dir={}", user_data_dir.display()),
            "--lang=zh-CN",
        ],
        // Headless Chromium ignores --lang for navigator.language, which the app's first
        // visit follows; this preference sets it (and Accept-Language).
        "prefs": { "intl.accept_languages": "zh-CN,zh" },
        // Headless windows are never narrower than 500 px; a phone's viewport needs
        // device emulation.
        "mobileEmulation": {
            "deviceMetrics": { "width": w, "height": h, "pixelRatio": 2, "touch": true },
        },
    })
}

/// A ChromeDriver process on a free loopback port. Dropping it ends the driver and every
/// browser it started: they share the process group we gave the driver.
pub struct ChromeDriver {
    child: Child,
    pub url: String,
}

impl ChromeDriver {
    pub fn spawn() -> Result<Self, String> {
        use std::os::unix::process::CommandExt;

        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let child = Command::new(chromedriver_bin())
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromedriver_bin().display()))?;
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("chromedriver did not listen on {addr} within 20 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The negative pid names the group: the driver and the browsers it spawned.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
