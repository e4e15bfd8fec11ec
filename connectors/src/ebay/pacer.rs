//! Client-side pacing: spends the daily call quota evenly so 429s stay rare.

use std::time::Duration;

/// Client-side pacing on real time (a token bucket that may go into debt: each caller
/// reserves its slot and sleeps until it comes).
pub(crate) struct Pacer {
    per_second: f64,
    burst: f64,
    state: tokio::sync::Mutex<(f64, tokio::time::Instant)>,
}

impl Pacer {
    pub(crate) fn new(p: super::Pacing) -> Self {
        let burst = f64::from(p.burst.max(1));
        Self {
            per_second: p.per_second,
            burst,
            state: tokio::sync::Mutex::new((burst, tokio::time::Instant::now())),
        }
    }

    pub(crate) async fn wait(&self) {
        if self.per_second.is_nan() || self.per_second <= 0.0 || self.per_second.is_infinite() {
            return;
        }
        let wait = {
            let mut s = self.state.lock().await;
            let now = tokio::time::Instant::now();
            let elapsed = now.duration_since(s.1).as_secs_f64();
            s.0 = (s.0 + elapsed * self.per_second).min(self.burst) - 1.0;
            s.1 = now;
            (s.0 < 0.0).then(|| Duration::from_secs_f64(-s.0 / self.per_second))
        };
        if let Some(w) = wait {
            tokio::time::sleep(w).await;
        }
    }
}
