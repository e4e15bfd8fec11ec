//! The operator console end to end in headless Chromium: sign in with an admin token, see
//! the account that needs attention (and why), filter to it, see the three plots drawn
//! with the right number of points, check the page with the keyboard and at phone width,
//! and find the token in no browser storage. Screenshots (desktop and phone width) are
//! written to `target/screenshots/` for review.

use crate::common::api::{token, TestApp};
use crate::common::browser::{browser_tools, Driver, Session, ENTER};
use crate::common::console::console_fixture;
use crate::common::corpus::leaks;
use crate::common::TestEnv;
use ordervault::ids::Role;
use serde_json::json;

async fn console_end_to_end(env: TestEnv) {
    let Some((chromium, driver_bin)) = browser_tools() else {
        return;
    };
    let f = console_fixture(&env).await;
    let service = TestApp::spawn(&env).await;
    let base = service.base.clone();
    let admin = token(&env, Role::Admin, None).await;
    let support = token(&env, Role::Support, None).await;

    // The page's own headers: the same strict policy as /support.
    let page = reqwest::get(format!("{base}/console")).await.unwrap();
    let h = |n: &str| page.headers().get(n).unwrap().to_str().unwrap().to_string();
    assert!(h("content-security-policy").contains("default-src 'none'"));
    assert!(h("content-security-policy").contains("script-src 'self'"));
    assert!(!h("content-security-policy").contains("unsafe"));
    assert_eq!(h("cache-control"), "no-store");
    assert_eq!(h("referrer-policy"), "no-referrer");
    assert!(h("content-type").starts_with("text/html"));

    let driver = Driver::start(&driver_bin).await;
    let profile = tempfile::tempdir().unwrap();
    let s = Session::new(&driver, &chromium, profile.path()).await;
    s.window_size(1280, 2400).await;
    s.goto(&format!("{base}/console")).await;

    // A support token is refused with a message; the token field has focus again.
    assert_eq!(s.script("return document.activeElement.id").await, "token");
    s.type_into("#token", &format!("{support}{ENTER}")).await;
    s.wait_status("needs an admin token").await;
    assert_eq!(s.script("return document.activeElement.id").await, "token");

    // Sign in: the summary gets focus and says one account needs attention.
    s.type_into("#token", &format!("{admin}{ENTER}")).await;
    s.wait_status("Loaded").await;
    assert_eq!(
        s.script("return document.activeElement.id").await,
        "summary"
    );
    let summary = s.text("#summary").await;
    assert!(
        summary.starts_with("2 accounts, 1 needs attention."),
        "{summary}"
    );
    assert_eq!(
        s.script("return document.getElementById('token').value")
            .await,
        ""
    );

    // The account that needs attention, and why.
    let broken = format!("#account-{}", f.broken);
    assert_eq!(
        s.script(&format!(
            "return document.querySelector('{broken}').classList.contains('attention')"
        ))
        .await,
        true
    );
    let card = s.text(&broken).await;
    for want in [
        "Boeken Online",
        "A connection needs re-authorization",
        "A connection is failing",
        "2 failed runs: amazon answered 503 Service Unavailable",
        "A webhook endpoint is disabled",
        "bol rejected the client credentials (401)",
        "410 Gone",
        "needs reauth",
        "v1",
    ] {
        assert!(card.contains(want), "{want:?} missing from {card:?}");
    }
    let healthy = s.text(&format!("#account-{}", f.healthy)).await;
    assert!(healthy.contains("Healthy"), "{healthy}");
    assert!(
        healthy.contains("Missed by last sweep (must be 0)\n0"),
        "{healthy}"
    );
    // No ship-back state is kept yet, so no ship-back section.
    assert_eq!(
        s.script("return document.querySelectorAll('.ship-back').length")
            .await,
        0
    );

    // The plots: 3 marketplaces × 168 hours; p50/p90/p99 on each day with deliveries;
    // 7 daily bars, the last one holding today's 4 pseudonymized orders.
    let ingested = s
        .script(
            "return [...document.querySelectorAll('#plot-ingested svg polyline')].map(p => \
             [p.dataset.series, p.getAttribute('points').trim().split(' ').length])",
        )
        .await;
    assert_eq!(
        ingested,
        json!([["bol", 168], ["amazon", 168], ["ebay", 168]])
    );
    let latency = s
        .script(
            "return [...document.querySelectorAll('#plot-latency svg g[data-series]')].map(g => \
             [g.dataset.series, g.querySelectorAll('circle').length])",
        )
        .await;
    let n = f.delivery_days;
    assert_eq!(latency, json!([["p50", n], ["p90", n], ["p99", n]]));
    let bars = s
        .script(
            "return [...document.querySelectorAll('#plot-pseudonymized svg rect.bar')]\
             .map(r => Number(r.dataset.value))",
        )
        .await;
    assert_eq!(bars, json!([0, 0, 0, 0, 0, 0, 4]));
    // Each plot is an image with a name and a text summary for screen readers.
    let labelled = s
        .script(
            "return [...document.querySelectorAll('figure > svg')].map(v => \
             v.getAttribute('role') === 'img' && \
             !!document.getElementById(v.getAttribute('aria-labelledby')) && \
             document.getElementById(v.getAttribute('aria-describedby')).textContent.length > 0)",
        )
        .await;
    assert_eq!(labelled, json!([true, true, true]));
    assert!(s
        .text("#plot-ingested")
        .await
        .contains("bol 7, amazon 2, ebay 0"));
    s.screenshot(&format!("console-{:?}", env.backend).to_lowercase())
        .await;

    // "Needs attention" filter, from the keyboard: Space toggles the checkbox.
    s.script("document.getElementById('attention-only').focus()")
        .await;
    let cb = s.find("#attention-only").await;
    driver
        .call(
            "POST",
            &s.path(&format!("/element/{cb}/value")),
            Some(json!({"text": " "})),
        )
        .await;
    s.wait_status("1 account needs attention").await;
    let cards = s
        .script("return [...document.querySelectorAll('#accounts article')].map(a => a.id)")
        .await;
    assert_eq!(cards, json!([format!("account-{}", f.broken)]));

    // Phone width: nothing wider than the screen.
    s.window_size(390, 2400).await;
    let overflow = s
        .script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        .await;
    assert_eq!(overflow, false, "the console fits a phone-width screen");
    s.screenshot(&format!("console-phone-{:?}", env.backend).to_lowercase())
        .await;

    // Nothing personal in the page; no token in storage, cookies or the address bar.
    let found = leaks(s.source().await.as_bytes(), &f.personal_values);
    assert!(found.is_empty(), "personal values in the page: {found:?}");
    let state = s
        .script(
            "return [localStorage.length, sessionStorage.length, document.cookie, location.href]",
        )
        .await;
    assert_eq!(state, json!([0, 0, "", format!("{base}/console")]));

    // Signing out forgets the token and clears the view.
    s.click("#signout").await;
    s.wait_status("Signed out").await;
    assert_eq!(
        s.script(
            "return [document.getElementById('console').hidden, \
             document.querySelectorAll('#accounts article, figure svg').length]"
        )
        .await,
        json!([true, 0])
    );
    s.close().await;
}

both_backends!(console_end_to_end);
