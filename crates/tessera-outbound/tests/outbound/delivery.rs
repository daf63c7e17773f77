//! With loopback allowed (as tests and demos configure it), the client delivers to a real
//! receiver, and every way an attempt can go wrong on the receiver's side becomes the right
//! outcome: redirects not followed, slow receivers cut off at the timeout, huge bodies capped.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use tessera_outbound::{DEFAULT_BODY_LOG_CAP, DEFAULT_BODY_READ_CAP, FailureKind, StaticLookup};

use super::receiver::{Behavior, Receiver, Tripwire};
use super::{builder, client_with};

const LOOPBACK: [&str; 2] = ["127.0.0.0/8", "::1/128"];

fn v4() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

fn lookup() -> StaticLookup {
    // A name only this table knows: reaching the receiver through it proves the connection went
    // to the address the guard checked, not to a second lookup.
    StaticLookup::new().with("receiver.test", &[v4()])
}

#[tokio::test]
async fn the_receiver_gets_the_post_with_its_headers_and_body() {
    let receiver = Receiver::start(v4(), Behavior::Ok).await;
    let client = client_with(&LOOPBACK, lookup());
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("webhook-id", HeaderValue::from_static("evt_123"));
    headers.insert("persona-signature", HeaderValue::from_static("t=1,v1=ab"));
    let body = Bytes::from_static("{\"data\":{\"name\":\"é\"}}".as_bytes());

    let url = format!("http://receiver.test:{}/hooks/in?x=1", receiver.port());
    client.check_url(&url).await.unwrap();
    let outcome = client.post(&url, headers.clone(), body.clone()).await;
    assert!(outcome.is_success(), "{outcome:?}");
    assert_eq!(outcome.status, Some(200));
    assert_eq!(outcome.body_text(), "ok");
    assert!(!outcome.body_truncated);
    assert_eq!(outcome.remote_addr, Some(receiver.addr));
    assert!(outcome.duration < Duration::from_secs(5));

    // The same through an IP literal of the allowed network.
    let literal = format!("http://127.0.0.1:{}/direct", receiver.port());
    assert!(
        client
            .post(&literal, headers, body.clone())
            .await
            .is_success()
    );

    let got = receiver.requests();
    assert_eq!(got.len(), 2);
    let first = &got[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.target, "/hooks/in?x=1");
    assert_eq!(first.body, body.to_vec());
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.header("webhook-id"), Some("evt_123"));
    assert_eq!(first.header("persona-signature"), Some("t=1,v1=ab"));
    assert_eq!(
        first.header("host"),
        Some(format!("receiver.test:{}", receiver.port()).as_str())
    );
    assert!(first.header("user-agent").unwrap().starts_with("Tessera/"));
    assert_eq!(got[1].target, "/direct");
}

#[tokio::test]
async fn a_redirect_is_a_failed_attempt_and_is_not_followed() {
    // The redirect points at another loopback address, where a listener waits for a connection
    // that must never come.
    let elsewhere = IpAddr::from([127, 0, 0, 2]);
    let wire = Tripwire::on_loopback(&[elsewhere]);
    let location = format!("http://{elsewhere}:{}/stolen", wire.port);
    let receiver = Receiver::start(
        v4(),
        Behavior::Status(302, vec![("location", location.clone())], "moved"),
    )
    .await;
    let client = client_with(&LOOPBACK, lookup());
    let url = format!("http://receiver.test:{}/", receiver.port());
    let outcome = client.post(&url, HeaderMap::new(), Bytes::new()).await;
    assert_eq!(
        outcome.error_kind(),
        Some(FailureKind::Redirect),
        "{outcome:?}"
    );
    assert_eq!(outcome.status, Some(302));
    assert!(outcome.failure.unwrap().message.contains(&location));
    assert_eq!(receiver.connections(), 1);
    assert!(!wire.touched(), "the redirect was followed");
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_times_out_at_the_deadline() {
    let timeout = Duration::from_millis(300);
    let client = builder(&LOOPBACK, timeout)
        .lookup(lookup())
        .build()
        .unwrap();
    for behavior in [Behavior::Hang, Behavior::HangInBody] {
        let receiver = Receiver::start(v4(), behavior.clone()).await;
        let url = format!("http://receiver.test:{}/", receiver.port());
        let outcome = client.post(&url, HeaderMap::new(), Bytes::new()).await;
        assert_eq!(
            outcome.error_kind(),
            Some(FailureKind::Timeout),
            "{behavior:?}: {outcome:?}"
        );
        assert!(outcome.duration >= timeout, "{:?}", outcome.duration);
        assert!(
            outcome.duration < timeout + Duration::from_secs(2),
            "{:?}",
            outcome.duration
        );
        assert_eq!(receiver.requests().len(), 1, "the request was sent");
        if matches!(behavior, Behavior::HangInBody) {
            // The answer had started: its status and first bytes are kept for the log.
            assert_eq!(outcome.status, Some(200));
            assert_eq!(outcome.body_text(), "partial");
        }
    }
}

#[tokio::test]
async fn a_huge_response_body_is_read_only_up_to_the_cap() {
    let total = 64 * 1024 * 1024;
    let receiver = Receiver::start(v4(), Behavior::Huge(total)).await;
    let client = client_with(&LOOPBACK, lookup());
    let url = format!("http://receiver.test:{}/", receiver.port());
    let outcome = client.post(&url, HeaderMap::new(), Bytes::new()).await;
    assert!(outcome.is_success(), "{outcome:?}");
    assert!(outcome.body_truncated);
    assert_eq!(outcome.body_head.len(), DEFAULT_BODY_LOG_CAP);
    assert!(outcome.body_head.iter().all(|&b| b == b'x'));
    assert!(outcome.body_read > DEFAULT_BODY_READ_CAP);
    assert!(outcome.body_read < 2 * DEFAULT_BODY_READ_CAP + 512 * 1024);
    // The receiver could only push what fits in socket buffers before the client hung up.
    assert!(receiver.huge_bytes_written() < total);
}

#[tokio::test]
async fn errors_statuses_and_retry_after_are_reported() {
    let client = client_with(&LOOPBACK, lookup());
    let cases = [
        (
            503,
            vec![("retry-after", "120".to_owned())],
            Some(Duration::from_secs(120)),
        ),
        (
            429,
            vec![("retry-after", "7".to_owned())],
            Some(Duration::from_secs(7)),
        ),
        // Only 429 and 503 ask the sender to wait.
        (500, vec![("retry-after", "120".to_owned())], None),
        (404, vec![], None),
    ];
    for (status, headers, retry_after) in cases {
        let receiver = Receiver::start(v4(), Behavior::Status(status, headers, "nope")).await;
        let url = format!("http://receiver.test:{}/", receiver.port());
        let outcome = client.post(&url, HeaderMap::new(), Bytes::new()).await;
        assert_eq!(
            outcome.error_kind(),
            Some(FailureKind::HttpStatus),
            "{outcome:?}"
        );
        assert_eq!(outcome.status, Some(status));
        assert_eq!(outcome.retry_after, retry_after);
        assert_eq!(outcome.body_text(), "nope");
    }

    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = closed.local_addr().unwrap();
    drop(closed);
    let outcome = client
        .post(&format!("http://{addr}/"), HeaderMap::new(), Bytes::new())
        .await;
    assert_eq!(
        outcome.error_kind(),
        Some(FailureKind::Connect),
        "{outcome:?}"
    );
}
