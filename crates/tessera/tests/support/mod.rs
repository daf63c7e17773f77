//! What the end-to-end tests share: one HTTP/1.1 request over a raw connection, so the tests
//! see exactly what the server sent.
#![allow(dead_code)] // each test binary uses part of it

use std::collections::HashMap;
use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response over a raw HTTP/1.1 connection.
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    /// Every header line, in order (`headers` keeps the last of repeated names).
    pub header_lines: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// One request on its own connection (`Connection: close`). An error means no answer arrived.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.map_or_else(Vec::new, |(ct, bytes)| {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
        bytes
    });
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("incomplete response"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let header_lines: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let headers: HashMap<String, String> = header_lines.iter().cloned().collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        body = dechunk(&body)?;
    } else if let Some(len) = headers
        .get("content-length")
        .and_then(|l| l.parse::<usize>().ok())
        && body.len() != len
    {
        return Err(std::io::Error::other("truncated body"));
    }
    Ok(Resp {
        status,
        headers,
        header_lines,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| std::io::Error::other("bad chunk"))?;
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16)
            .map_err(std::io::Error::other)?;
        if size == 0 {
            return Ok(out);
        }
        let start = end + 2;
        out.extend_from_slice(
            data.get(start..start + size)
                .ok_or_else(|| std::io::Error::other("short chunk"))?,
        );
        data = &data[start + size + 2..];
    }
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The cookies the response sets, as `name=value` (without their attributes).
    pub fn set_cookies(&self) -> Vec<String> {
        self.header_lines
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.split(';').next().unwrap_or("").trim().to_owned())
            .collect()
    }
}

/// The value of a form's hidden `csrf_token` field in a page.
pub fn csrf_token(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    html[at..].split('"').next().map(str::to_owned)
}

/// `application/x-www-form-urlencoded` from pairs.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signs in to the dashboard over HTTP; returns the `Cookie` header of the session.
pub async fn sign_in(addr: SocketAddr, email: &str, password: &str) -> String {
    let page = request(addr, "GET", "/dashboard/sign-in", &[], None)
        .await
        .unwrap();
    assert_eq!(page.status, 200, "{}", page.text());
    let cookie = page.set_cookies().join("; ");
    let token = csrf_token(&page.text()).expect("the sign-in form has a CSRF token");
    let body = form(&[
        ("csrf_token", &token),
        ("email", email),
        ("password", password),
    ]);
    let r = request(
        addr,
        "POST",
        "/dashboard/sign-in",
        &[("Cookie", &cookie)],
        Some(("application/x-www-form-urlencoded", body)),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 303, "sign-in refused: {}", r.text());
    r.set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tessera_session=") && c.len() > "tessera_session=".len())
        .expect("a session cookie")
}
