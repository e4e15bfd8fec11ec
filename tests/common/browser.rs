//! Headless Chromium for the page tests, driven over the W3C WebDriver protocol with
//! plain JSON calls to chromedriver. Needs `chromium` and `chromedriver`
//! (`apt-get install -y chromium chromium-driver`): without them a test is skipped with a
//! message, and under `CI=true` it fails.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const ENTER: &str = "\u{E007}";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// Chromium and chromedriver, or `None` (skip) outside CI.
pub fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| find_program(&["chromium", "chromium-browser", "google-chrome"]));
    let driver = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| find_program(&["chromedriver"]));
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            let msg = "chromium and chromedriver are needed for the browser tests \
                       (apt-get install -y chromium chromium-driver)";
            if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
                panic!("{msg}; they are missing under CI=true");
            }
            eprintln!("skipping browser test: {msg}");
            None
        }
    }
}

/// A chromedriver process in its own process group; the group (chromedriver and the
/// browsers it started) is killed on drop, also when the test fails half-way.
pub struct Driver {
    child: Child,
    pub base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub async fn start(program: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let d = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = d.http.get(format!("{}/status", d.base)).send().await {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        d
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(
            v["value"].get("error").is_none(),
            "webdriver {method} {path}: {}",
            v["value"]
        );
        v["value"].clone()
    }
}

/// One browser session.
pub struct Session<'a> {
    pub d: &'a Driver,
    pub id: String,
}

impl<'a> Session<'a> {
    pub async fn new(d: &'a Driver, chromium: &Path, profile: &Path) -> Self {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let v = d.call("POST", "/session", Some(caps)).await;
        Self {
            d,
            id: v["sessionId"].as_str().unwrap().to_string(),
        }
    }
    pub fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }
    pub async fn goto(&self, url: &str) {
        self.d
            .call("POST", &self.path("/url"), Some(json!({"url": url})))
            .await;
    }
    pub async fn find(&self, css: &str) -> String {
        let v = self
            .d
            .call(
                "POST",
                &self.path("/element"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_string()
    }
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.d
            .call(
                "POST",
                &self.path(&format!("/element/{e}/clear")),
                Some(json!({})),
            )
            .await;
        self.d
            .call(
                "POST",
                &self.path(&format!("/element/{e}/value")),
                Some(json!({"text": text})),
            )
            .await;
    }
    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        let v = self
            .d
            .call("GET", &self.path(&format!("/element/{e}/text")), None)
            .await;
        v.as_str().unwrap_or("").to_string()
    }
    pub async fn script(&self, js: &str) -> Value {
        self.d
            .call(
                "POST",
                &self.path("/execute/sync"),
                Some(json!({"script": js, "args": []})),
            )
            .await
    }
    pub async fn source(&self) -> String {
        let v = self.d.call("GET", &self.path("/source"), None).await;
        v.as_str().unwrap_or("").to_string()
    }
    /// Waits until the live status region contains `needle`; returns its text.
    pub async fn wait_status(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let t = self.text("#status").await;
            if t.contains(needle) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "status never showed {needle:?}; it shows {t:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    pub async fn close(self) {
        self.d.call("DELETE", &self.path(""), None).await;
    }
}

impl Session<'_> {
    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.d
            .call(
                "POST",
                &self.path(&format!("/element/{e}/click")),
                Some(json!({})),
            )
            .await;
    }

    /// Sets the browser window's size (CSS pixels).
    pub async fn window_size(&self, width: u32, height: u32) {
        self.d
            .call(
                "POST",
                &self.path("/window/rect"),
                Some(json!({"width": width, "height": height})),
            )
            .await;
    }

    /// Waits until `js` (an expression) is truthy; returns its value.
    pub async fn wait_for(&self, js: &str, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self.script(&format!("return ({js}) || null")).await;
            if !v.is_null() && v != false {
                return v;
            }
            assert!(Instant::now() < deadline, "never saw {what} ({js})");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Writes a PNG of the viewport to `target/screenshots/<name>.png` for review.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine as _;
        let v = self.d.call("GET", &self.path("/screenshot"), None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or(""))
            .expect("screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// `target/screenshots` (next to cargo's `target/tmp` of integration tests).
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|t| t.join("screenshots"))
        .unwrap_or_else(|| PathBuf::from("target/screenshots"))
}
