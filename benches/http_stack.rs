//! Issue 12, "one HTTP stack": what moving the MCP Streamable HTTP transport from ureq (sync,
//! no runtime) to reqwest (which oci-client already brings) would cost the gate's `run --url`.
//! Both clients POST the same JSON-RPC message to the same loopback HTTP/1.1 keep-alive server
//! (a std thread in this process, answering `application/json`), interleaved, in one run:
//!
//! - **first request**: build a client and make one request (what every gated session pays
//!   once before the first message is relayed);
//! - **per request**: one round trip on a warm client (what every relayed message pays).
//!
//! Run: `cargo bench --bench http_stack`. Medians of 21 runs; plain std timing.

mod common;
use common::median_ms;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}"#;
const REPLY: &str =
    r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}"#;

/// A keep-alive HTTP/1.1 server answering every POST with REPLY; one thread per connection.
fn server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = c.set_nodelay(true);
                let mut w = c.try_clone().expect("clone");
                let mut r = BufReader::new(c);
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l
                            .to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_owned())
                        {
                            len = v.parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{REPLY}",
                        REPLY.len()
                    );
                    if w.write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}/mcp")
}

fn ureq_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn ureq_post(a: &ureq::Agent, url: &str) {
    let mut r = a
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .send(BODY)
        .expect("ureq post");
    let s = r.body_mut().read_to_string().expect("ureq body");
    assert_eq!(s.len(), REPLY.len());
}

fn reqwest_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

fn reqwest_post(c: &reqwest::blocking::Client, url: &str) {
    let r = c
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(BODY)
        .send()
        .expect("reqwest post");
    let s = r.text().expect("reqwest body");
    assert_eq!(s.len(), REPLY.len());
}

fn main() {
    let url = server();
    const N: usize = 500;
    let ua = ureq_agent();
    let rc = reqwest_client();
    // Warm both (connections open, code paged in).
    for _ in 0..50 {
        ureq_post(&ua, &url);
        reqwest_post(&rc, &url);
    }
    let (mut u_first, mut r_first, mut u_req, mut r_req) = (vec![], vec![], vec![], vec![]);
    for _ in 0..5 {
        u_first.push(median_ms(|| ureq_post(&ureq_agent(), &url)));
        r_first.push(median_ms(|| reqwest_post(&reqwest_client(), &url)));
        u_req.push(median_ms(|| (0..N).for_each(|_| ureq_post(&ua, &url))) * 1000.0 / N as f64);
        r_req.push(median_ms(|| (0..N).for_each(|_| reqwest_post(&rc, &url))) * 1000.0 / N as f64);
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (uf, rf, ur, rr) = (
        med(&mut u_first),
        med(&mut r_first),
        med(&mut u_req),
        med(&mut r_req),
    );
    println!("| | ureq 3 (today) | reqwest 0.13 blocking | ratio reqwest/ureq |");
    println!("|---|---|---|---|");
    println!(
        "| client + first request | {:.3} ms | {:.3} ms | {:.2} |",
        uf,
        rf,
        rf / uf
    );
    println!(
        "| per request, warm client | {:.1} µs | {:.1} µs | {:.2} |",
        ur,
        rr,
        rr / ur
    );
}
