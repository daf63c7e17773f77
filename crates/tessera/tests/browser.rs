//! The dashboard in a real headless browser: Debian's Chromium driven through chromedriver
//! (WebDriver), against the real `tessera` binary. One server, one browser, one story that
//! covers the dashboard's main paths; a screenshot of each main page goes to
//! `artifacts/screenshots/` (not committed).
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (`.ci/run` installs Debian's `chromium`
//! and `chromium-driver`); without them the test fails and says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use support::request;

const ADMIN: &str = "browser-admin-token";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD_A: &str = "alpha-password-1";
const PASSWORD_B: &str = "bravo-password-2";

/// Says where the story is (a hang is then easy to place).
fn step(started: std::time::Instant, what: &str) {
    eprintln!("[{:>5.1}s] {what}", started.elapsed().as_secs_f64());
}

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn tessera(dir: &Path, db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
    c.current_dir(dir)
        .env("TESSERA_DATABASE_URL", db)
        .env("TESSERA_ADMIN_TOKEN", ADMIN)
        .env("TESSERA_LOG", "warn")
        .kill_on_drop(true);
    c
}

/// An organization made with `tessera org create`, with a dashboard user made with
/// `tessera user create` (the operator's path).
struct Org {
    id: String,
    key: String,
    email: String,
    password: String,
}

async fn org(dir: &Path, db: &str, name: &str, email: &str, password: &str) -> Org {
    let out = tessera(dir, db)
        .args(["org", "create", "--name", name, "--json"])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = created["organization-id"].as_str().unwrap().to_owned();
    let mut user = tessera(dir, db)
        .args([
            "user",
            "create",
            "--org",
            &id,
            "--email",
            email,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = user.stdin.take().unwrap();
        stdin
            .write_all(format!("{password}\n").as_bytes())
            .await
            .unwrap();
    }
    let out = user.wait_with_output().await.unwrap();
    assert!(out.status.success(), "user create failed");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("usr_"));
    Org {
        id,
        key: created["api-keys"]["sandbox"].as_str().unwrap().to_owned(),
        email: email.to_owned(),
        password: password.to_owned(),
    }
}

/// Polls `path` until it answers 200, or panics at the deadline.
async fn wait_until_up(addr: SocketAddr, path: &str, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = request(addr, "GET", path, &[], None).await
            && r.status == 200
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what} exited: {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not start at {addr}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A JSON API call with an API key.
async fn api(addr: SocketAddr, key: &str, method: &str, path: &str, body: Value) -> Value {
    let auth = format!("Bearer {key}");
    let r = request(
        addr,
        method,
        path,
        &[("Authorization", &auth)],
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
    .unwrap();
    assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.text());
    r.json()
}

/// The browser and where it points.
struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn body(&self) -> String {
        self.text("body").await
    }

    async fn fill(&self, css: &str, value: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Clicks a link or a form's button and waits for the next page (the old one going stale).
    async fn click(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
        self.gone(old).await;
    }

    /// Picks an option of a select that submits its form (the environment switch).
    async fn pick_and_go(&self, css: &str, value: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
        self.gone(old).await;
    }

    /// Waits until an element of the previous page is gone.
    async fn gone(&self, old: fantoccini::elements::Element) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while old.tag_name().await.is_ok() {
            assert!(Instant::now() < deadline, "the page did not change");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn sign_in(&self, o: &Org) {
        self.go("/dashboard/sign-in").await;
        self.fill("input[name=email]", &o.email).await;
        self.fill("input[name=password]", &o.password).await;
        self.click("form button[type=submit]").await;
        self.text("nav.side").await;
    }

    async fn sign_out(&self) {
        self.click("form.signout button").await;
        assert!(self.body().await.contains("You have signed out."));
    }

    /// Reloads until `css` reads `expected`, or panics at the deadline (the worker finishes the
    /// redemption in the background).
    async fn until_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.text(css).await.contains(expected) {
                return;
            }
            assert!(Instant::now() < deadline, "{css} never read {expected}");
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.client.refresh().await.unwrap();
        }
    }

    /// POSTs from the page itself (same origin, with the session cookie) and returns the status.
    async fn post_status(&self, path: &str, fields: Value) -> u16 {
        let script = r#"
            const [path, fields, done] = arguments;
            fetch(path, {method: "POST", credentials: "same-origin", redirect: "manual",
                         headers: {"Content-Type": "application/x-www-form-urlencoded"},
                         body: new URLSearchParams(fields).toString()})
              .then(r => done(r.status), e => done(String(e)));
        "#;
        let v = self
            .client
            .execute_async(script, vec![json!(path), fields])
            .await
            .unwrap();
        v.as_u64().unwrap_or_else(|| panic!("fetch failed: {v}")) as u16
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_a_real_browser() {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install Debian's chromium and chromium-driver (.ci/run does)"
        );
    }
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/t.db", dir.path().display());
    let a = org(
        dir.path(),
        &db,
        "Alpha Bank",
        "ann@alpha.example",
        PASSWORD_A,
    )
    .await;
    let b = org(
        dir.path(),
        &db,
        "Bravo Lending",
        "bob@bravo.example",
        PASSWORD_B,
    )
    .await;
    let c = org(
        dir.path(),
        &db,
        "Charlie Corp",
        "cat@charlie.example",
        "charlie-password-3",
    )
    .await;

    let addr = free_addr();
    let mut server = tessera(dir.path(), &db)
        .args(["serve", "--listen", &addr.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    wait_until_up(addr, "/readyz", &mut server, "tessera serve").await;

    // Data made through the API: a completed inquiry of Alpha's with a verification, Bravo's
    // template, and a token of Alpha's for Charlie (which Bravo must never see).
    let inquiry = api(addr, &a.key, "POST", "/api/v1/inquiries", json!({"data": {"attributes": {
        "fields": {"name-first": "Jane", "name-last": "Doe", "birthdate": "1990-04-01", "address-country-code": "US"}}}})).await;
    let inquiry = inquiry["data"]["id"].as_str().unwrap().to_owned();
    api(
        addr,
        &a.key,
        "POST",
        "/api/v1/verifications",
        json!({"data": {"attributes": {
        "inquiry-id": inquiry, "type": "government-id", "status": "passed",
        "checks": [{"name": "id_expiration", "status": "passed"}]}}}),
    )
    .await;
    api(
        addr,
        &a.key,
        "POST",
        &format!("/api/v1/inquiries/{inquiry}/complete"),
        json!({}),
    )
    .await;
    let template = api(
        addr,
        &b.key,
        "POST",
        "/api/v1/inquiry-templates",
        json!({"data": {"attributes": {
        "name": "Bravo KYC", "required-fields": ["name-first", "birthdate"],
        "required-verifications": [{"type": "government-id"}], "minimum-age": 18}}}),
    )
    .await;
    let template = template["data"]["id"].as_str().unwrap().to_owned();
    let to_c = api(
        addr,
        &a.key,
        "POST",
        "/api/v1/connect/connections",
        json!({"data": {"attributes": {
        "destination-organization-id": c.id}}}),
    )
    .await;
    let to_c = to_c["data"]["id"].as_str().unwrap().to_owned();
    let c_key = c.key.clone();
    api(
        addr,
        &c_key,
        "POST",
        &format!("/api/v1/connect/connections/{to_c}/activate"),
        json!({}),
    )
    .await;
    let token_for_c = api(
        addr,
        &a.key,
        "POST",
        "/api/v1/connect/share-tokens",
        json!({"data": {"attributes": {
        "connection-id": to_c, "source-id": inquiry}}}),
    )
    .await;
    let token_for_c = token_for_c["data"]["id"].as_str().unwrap().to_owned();

    step(started, "browser starts");
    // One browser for the whole story.
    let driver_addr = free_addr();
    let profile = tempfile::tempdir().unwrap();
    let mut driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={}", driver_addr.port()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // (chromedriver keeps connections open, so the raw request above cannot ask it: wait for its
    // port instead.)
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(driver_addr).await.is_err() {
        assert!(driver.try_wait().unwrap().is_none(), "chromedriver exited");
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut caps = serde_json::Map::new();
    // No step of a page may hang the test for long.
    caps.insert(
        "timeouts".into(),
        json!({"pageLoad": 30_000, "script": 10_000}),
    );
    caps.insert("goog:chromeOptions".into(), json!({
        "binary": CHROMIUM,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,1000",
                 format!("--user-data-dir={}", profile.path().display())],
    }));
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://{driver_addr}"))
        .await
        .expect("a Chromium session");
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let web = Browser {
        client,
        base: format!("http://{addr}"),
        shots,
    };

    step(started, "signed out");
    // Signed out, a page sends the browser to the sign-in form; a wrong password is refused.
    web.go("/dashboard/share-tokens").await;
    assert_eq!(web.path().await, "/dashboard/sign-in");
    web.fill("input[name=email]", &a.email).await;
    web.fill("input[name=password]", "not the password").await;
    web.click("form button[type=submit]").await;
    assert!(web.text("p.error").await.contains("do not match"));
    web.shot("sign-in").await;

    step(started, "alpha connects");
    // Alpha: the empty states say what to do next; create a connection to Bravo.
    web.sign_in(&a).await;
    assert_eq!(web.path().await, "/dashboard/share-tokens");
    web.go("/dashboard/connections").await;
    web.fill("input[name=destination_organization_id]", &b.id)
        .await;
    web.fill("#create-connection input[name=name]", "Alpha to Bravo")
        .await;
    web.click("#create-connection button").await;
    assert!(web.text("#connection-status").await.contains("pending"));
    let connection = web.path().await.rsplit('/').next().unwrap().to_owned();
    web.shot("connection").await;
    web.sign_out().await;

    step(started, "bravo activates");
    // Bravo activates it.
    web.sign_in(&b).await;
    web.go("/dashboard/connections").await;
    web.shot("connections").await;
    web.click(&format!(
        "form[action='/dashboard/connections/{connection}/activate'] button"
    ))
    .await;
    assert!(web.text("#connection-status").await.contains("active"));
    web.sign_out().await;

    step(started, "alpha creates a token");
    // Alpha creates a share token from the dashboard.
    web.sign_in(&a).await;
    web.go("/dashboard/share-tokens").await;
    web.client
        .find(Locator::Css("select[name=connection_id]"))
        .await
        .unwrap()
        .select_by_value(&connection)
        .await
        .unwrap();
    web.fill("input[name=inquiry_id]", "inq_doesnotexist0000000000")
        .await;
    web.click("#create-token button").await;
    assert!(
        web.text("p.error").await.contains("No such inquiry"),
        "a form error re-renders the form"
    );
    web.fill("input[name=inquiry_id]", &inquiry).await;
    web.click("#create-token button").await;
    assert!(web.text("#token-status").await.contains("created"));
    let token = web.path().await.rsplit('/').next().unwrap().to_owned();
    assert!(token.starts_with("cnst_"));
    assert!(web.text("#timeline").await.contains("Created"));
    web.shot("share-token-created").await;

    step(started, "csrf");
    // A POST without the CSRF token, or with another one, is refused; the token is unchanged.
    let expire = format!("/dashboard/share-tokens/{token}/expire");
    assert_eq!(web.post_status(&expire, json!({})).await, 403);
    assert_eq!(
        web.post_status(&expire, json!({"csrf_token": "x".repeat(43)}))
            .await,
        403
    );
    web.client.refresh().await.unwrap();
    assert!(web.text("#token-status").await.contains("created"));
    web.sign_out().await;

    step(started, "bravo previews");
    // Bravo previews what it would get: the dry run of its template, then redeems from there.
    web.sign_in(&b).await;
    web.go(&format!("/dashboard/share-tokens/{token}")).await;
    assert!(web.text("#preview").await.contains("name-first"));
    web.client
        .find(Locator::Css("#dry-run select[name=template]"))
        .await
        .unwrap()
        .select_by_value(&template)
        .await
        .unwrap();
    web.click("#dry-run button").await;
    let checks = web.text("#dry-run-checks").await;
    for check in ["required_fields_present", "minimum_age", "country_allowed"] {
        assert!(
            checks.contains(check),
            "the dry run lacks {check}: {checks}"
        );
    }
    let digest = web.text("#manifest-digest").await;
    assert!(digest.starts_with("sha256:"), "{digest}");
    web.shot("share-token-preview").await;

    step(started, "bravo redeems");
    // Redeeming from the preview records that the copy matched what was previewed.
    web.client
        .find(Locator::Css("#redeem-this select[name=template_id]"))
        .await
        .unwrap()
        .select_by_value(&template)
        .await
        .unwrap();
    web.click("#redeem-this button").await;
    web.until_text("#token-status", "redeemed").await;
    let copied = web.text("#copy-digest").await;
    assert!(
        copied.contains(&digest) && copied.contains("matched the preview"),
        "{copied}"
    );
    let timeline = web.text("#timeline").await;
    assert!(timeline.contains("Redeemed"), "{timeline}");
    web.shot("share-token-redeemed").await;
    web.go("/dashboard/share-tokens").await;
    web.shot("share-tokens").await;
    web.go(&format!("/dashboard/share-tokens/{token}")).await;
    web.click("#destination-link").await;
    let page = web.body().await;
    for expected in [
        "Shared with you",
        "Alpha Bank",
        "Share token verification",
        "required_fields_present",
        "minimum_age",
        "government-id",
    ] {
        assert!(
            page.contains(expected),
            "the copy's page lacks {expected:?}:\n{page}"
        );
    }
    assert!(web.text("#inquiry-status").await.contains("completed"));
    web.shot("inquiry-copy").await;

    step(started, "batches");
    // Alpha selects the inquiry on its list and shares it with the connection in a batch; the
    // batch page shows its progress until it is done. Bravo selects the inbound token and
    // redeems it in a batch.
    web.sign_out().await;
    web.sign_in(&a).await;
    web.go("/dashboard/inquiries").await;
    web.client
        .find(Locator::Css(&format!(
            "#share-selected input[name=source_id][value='{inquiry}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.client
        .find(Locator::Css("#share-selected select[name=connection_id]"))
        .await
        .unwrap()
        .select_by_value(&connection)
        .await
        .unwrap();
    web.click("#share-selected-button").await;
    assert!(
        web.path()
            .await
            .starts_with("/dashboard/share-token-batches/stb_")
    );
    web.until_text("#batch-status", "completed").await;
    assert_eq!(web.text("#count-succeeded").await, "1");
    web.shot("share-token-batch-created").await;
    web.sign_out().await;
    web.sign_in(&b).await;
    web.go("/dashboard/share-tokens").await;
    web.client
        .find(Locator::Css("#redeem-selected input[name=token_id]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.click("#redeem-selected-button").await;
    web.until_text("#batch-status", "completed").await;
    assert_eq!(web.text("#count-succeeded").await, "1");
    assert!(web.text("#items").await.contains("redeemed"));
    web.shot("share-token-batch-redeemed").await;

    step(started, "isolation");
    // Another organization's objects are not found, whatever the URL.
    web.go(&format!("/dashboard/share-tokens/{token_for_c}"))
        .await;
    assert!(web.text("h1").await.contains("Not found"));
    web.shot("not-found").await;
    web.go(&format!("/dashboard/inquiries/{inquiry}")).await;
    assert!(web.text("h1").await.contains("Not found"));

    step(started, "other pages");
    // The other main pages.
    web.go("/dashboard/events").await;
    web.click("table.events tbody tr a").await;
    assert!(web.text("#payload").await.contains("\"data\""));
    web.shot("event").await;
    web.go("/dashboard/events").await;
    web.shot("events").await;
    web.go("/dashboard/inquiries").await;
    web.shot("inquiries").await;
    web.go("/dashboard/webhooks").await;
    web.shot("webhooks").await;
    web.go("/dashboard/api-keys").await;
    web.fill("#create-key input[name=name]", "browser test")
        .await;
    web.click("#create-key button").await;
    assert!(web.text("#secret code").await.starts_with("tsk_sandbox_"));
    web.shot("api-key-secret").await;

    step(started, "workflows");
    // A workflow made in the browser. Bravo has no outbound connection, so the example's
    // connection is a placeholder: refused, with the pointer to it; fixed, the workflow is listed.
    web.go("/dashboard/workflows").await;
    assert!(web.text("#no-workflows").await.contains("No workflows yet"));
    web.click("#new-workflow").await;
    assert!(web.text("#no-connection").await.contains("placeholder"));
    web.click("#workflow-form button[type=submit]").await;
    assert_eq!(web.text("#error-pointer").await, "/steps/0/connection-id");
    web.shot("workflow-invalid").await;
    web.fill(
        "#workflow-form textarea[name=definition]",
        r#"{"name": "Tag completed inquiries", "trigger": {"event": "inquiry.completed"}, "steps": [{"type": "tag-inquiry", "tag": "reviewed"}]}"#,
    )
    .await;
    web.click("#workflow-form button[type=submit]").await;
    assert!(web.text("#secret code").await.starts_with("wflsec_"));
    web.go("/dashboard/workflows").await;
    let listed = web.text("#workflows").await;
    assert!(
        listed.contains("Tag completed inquiries") && listed.contains("inquiry.completed"),
        "{listed}"
    );
    web.shot("workflows").await;

    step(started, "environment");
    // The environment switch: production is empty.
    web.go("/dashboard/share-tokens").await;
    web.pick_and_go("select[name=environment]", "production")
        .await;
    web.text("div.env-banner").await;
    assert!(web.body().await.contains("No share tokens yet"));
    web.shot("production").await;

    step(started, "sign out");
    // Signing out ends the session.
    web.sign_out().await;
    web.go("/dashboard/share-tokens").await;
    assert_eq!(web.path().await, "/dashboard/sign-in");

    web.client.close().await.unwrap();
    let _ = driver.start_kill();
    let _ = server.start_kill();
    eprintln!("browser story took {:.1}s", started.elapsed().as_secs_f64());
}
