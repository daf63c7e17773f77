//! Dashboard tests, in process on both backends: sessions, CSRF, the sign-in throttle, forms
//! that answer with their errors, and that no page of one organization shows or changes another's
//! data. A small cookie-keeping client plays the browser.

mod auth;
mod batches;
mod isolation;
mod pages;
mod peer;
mod source_notices;
mod templates;
mod trust;
mod workflows;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use serde_json::json;

use crate::support::{ADMIN, App, Org, Resp};

/// A dashboard user: an organization and its sign-in.
pub struct User {
    pub org: Org,
    pub email: String,
    pub password: String,
}

/// Creates an organization with a dashboard user of the given role.
pub async fn user(app: &App, name: &str, role: &str) -> User {
    let org = app.org(name).await;
    let email = format!("{}@{}.example", role, name.to_lowercase().replace(' ', "-"));
    let password = format!("{name}-password-123");
    app.post(&format!("/admin/v1/organizations/{}/users", org.id))
        .key(ADMIN)
        .json(json!({"data": {"attributes": {"email": email, "password": password, "role": role}}}))
        .send()
        .await
        .expect(201);
    User {
        org,
        email,
        password,
    }
}

/// The value of the first hidden `csrf_token` field of a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let marker = r#"name="csrf_token" value=""#;
    let at = html.find(marker)? + marker.len();
    html[at..].split('"').next().map(str::to_owned)
}

/// `name=value` of each cookie a response sets.
pub fn set_cookies(r: &Resp) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

pub fn html(r: &Resp) -> String {
    String::from_utf8_lossy(&r.bytes).into_owned()
}

/// `application/x-www-form-urlencoded`.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A browser: the cookies it holds and the CSRF token of the last page it saw.
pub struct Browser<'a> {
    pub app: &'a App,
    pub cookies: Vec<(String, String)>,
    pub csrf: String,
    pub address: Option<SocketAddr>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a App) -> Self {
        Self {
            app,
            cookies: Vec::new(),
            csrf: String::new(),
            address: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, r: &Resp) {
        for c in set_cookies(r) {
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        if let Some(t) = csrf_of(&html(r)) {
            self.csrf = t;
        }
    }

    pub async fn send(&mut self, method: Method, path: &str, body: Option<String>) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/x-www-form-urlencoded");
                Body::from(b)
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        if let Some(a) = self.address {
            req.extensions_mut().insert(ConnectInfo(a));
        }
        let r = self.app.send_request(req).await;
        self.keep(&r);
        r
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    /// A form POST with this browser's CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.send(Method::POST, path, Some(form(&all))).await
    }

    /// Tries to sign in; returns the answer to the form.
    pub async fn try_sign_in(&mut self, email: &str, password: &str) -> Resp {
        self.get("/dashboard/sign-in").await;
        self.post(
            "/dashboard/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Signs in and loads the first page (for its CSRF token).
    pub async fn sign_in(&mut self, u: &User) {
        let r = self.try_sign_in(&u.email, &u.password).await;
        assert_eq!(r.status.as_u16(), 303, "{}", html(&r));
        let page = self.get("/dashboard/share-tokens").await;
        assert_eq!(page.status.as_u16(), 200, "{}", html(&page));
    }
}

/// Asserts a page's status and that it is an HTML page (never a JSON error, never a raw 500).
#[track_caller]
pub fn page(r: &Resp, status: u16) -> String {
    let body = html(r);
    assert_eq!(r.status.as_u16(), status, "{body}");
    let ct = r.header("content-type").unwrap_or("");
    assert!(ct.starts_with("text/html"), "{ct}: {body}");
    body
}
