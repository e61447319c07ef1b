//! `yardstick serve`: a small local web UI over the results store: list
//! and filter runs, open a run's report, pick runs to report together or
//! to compare.
//!
//! Bound to 127.0.0.1 unless `--listen` says otherwise, and read-only
//! (the store is opened read-only) unless `--allow-writes`, which adds
//! tagging and deleting. Every request must name this server in its
//! `Host` header (no DNS rebinding), and a write must come from a page of
//! this server (`Origin`), so another web site cannot drive it.
//!
//! A deliberately small HTTP/1.1 server on std's sockets: one request per
//! connection, served one at a time; the pages are built on the fly from
//! the store, the report (`yardstick-report`) and the comparison
//! (`yardstick-compare`).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use yardstick_pipeline::record::RunRecord;
use yardstick_store::{parse_date, DateBound, RowStatus, RunFilter, Store};

use crate::runs_cmd::StoreArg;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Address to listen on (`0.0.0.0:8080` to be reachable from other
    /// machines; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Allow tagging and deleting runs from the page (read-only otherwise).
    #[arg(long)]
    pub allow_writes: bool,
}

/// Requests larger than this are refused (the UI sends small forms).
const MAX_REQUEST: usize = 64 * 1024;

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let path = match &args.store.store {
        Some(p) => p.clone(),
        None => Store::default_path()?,
    };
    // Read-only by default: the store file is opened read-only, so no
    // request can change it.
    let mut store = if args.allow_writes {
        Store::open(&path)
    } else {
        Store::open_read_only(&path)
    }
    .with_context(|| format!("opening the results store {}", path.display()))?;
    let listener =
        TcpListener::bind(&args.listen).with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!(
        "yardstick serve: http://{addr}/  (results store {}, {}; Ctrl-C stops)",
        path.display(),
        if args.allow_writes {
            "tagging and deleting allowed"
        } else {
            "read-only"
        }
    );
    std::io::stdout().flush()?;
    let server = Server {
        host: addr.to_string(),
        allow_writes: args.allow_writes,
        store_path: path,
    };
    for conn in listener.incoming() {
        let Ok(stream) = conn else { continue };
        if let Err(e) = server.handle(&mut store, stream) {
            eprintln!("yardstick serve: {e:#}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

struct Server {
    /// `127.0.0.1:8080`: what the Host header must say.
    host: String,
    allow_writes: bool,
    store_path: PathBuf,
}

struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    host: Option<String>,
    origin: Option<String>,
    form: Vec<(String, String)>,
}

impl Request {
    fn all(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .chain(&self.form)
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn one(&self, key: &str) -> Option<&str> {
        self.all(key).into_iter().next()
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Response {
    fn html(body: String) -> Response {
        Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body,
        }
    }

    fn error(status: u16, message: &str) -> Response {
        Response {
            status,
            content_type: "text/html; charset=utf-8",
            body: page(
                "yardstick: error",
                &format!(
                    "<p class=err>{}</p><p><a href=\"/\">all runs</a></p>",
                    esc(message)
                ),
            ),
        }
    }

    fn redirect_home() -> Response {
        Response {
            status: 303,
            content_type: "text/plain",
            body: String::new(),
        }
    }
}

impl Server {
    fn handle(&self, store: &mut Store, mut stream: TcpStream) -> Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        let response = match read_request(&stream) {
            Ok(req) => self.route(store, &req),
            Err(why) => Response::error(400, &why),
        };
        let reason = match response.status {
            200 => "OK",
            303 => "See Other",
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            _ => "Internal Server Error",
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n",
            response.status,
            response.content_type,
            response.body.len()
        );
        if response.status == 303 {
            head.push_str("Location: /\r\n");
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(response.body.as_bytes())?;
        stream.flush()?;
        Ok(())
    }

    fn route(&self, store: &mut Store, req: &Request) -> Response {
        // Another site's page cannot make the browser send our Host (DNS
        // rebinding), nor an Origin of ours (cross-site form posts).
        if req.host.as_deref() != Some(self.host.as_str())
            && !req
                .host
                .as_deref()
                .is_some_and(|h| is_loopback_alias(h, &self.host))
        {
            return Response::error(403, "this server answers only requests addressed to it");
        }
        let result = match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/") => self.index(store, req),
            ("GET", "/report") => self.report(store, req),
            ("GET", "/compare") => self.compare(store, req),
            ("GET", p) if p.starts_with("/runs/") => self.run_page(store, &p["/runs/".len()..]),
            ("POST", "/tag" | "/delete") => {
                if !self.allow_writes {
                    return Response::error(
                        403,
                        "read-only: start yardstick serve --allow-writes to tag or delete runs",
                    );
                }
                let own_origin = format!("http://{}", req.host.as_deref().unwrap_or_default());
                if req.origin.as_deref() != Some(own_origin.as_str()) {
                    return Response::error(403, "a change must come from this server's own page");
                }
                self.write(store, req)
            }
            ("GET" | "POST", _) => Err(Response::error(404, "no such page")),
            _ => Err(Response::error(405, "only GET and POST")),
        };
        result.unwrap_or_else(|r| r)
    }

    fn filter(req: &Request) -> Result<RunFilter, Response> {
        let bad = |e: yardstick_store::StoreError| Response::error(400, &e.to_string());
        let text = |k: &str| req.one(k).map(str::to_string);
        Ok(RunFilter {
            tag: text("tag"),
            workload: text("workload"),
            scenario: text("scenario"),
            sut: text("sut"),
            since: req
                .one("since")
                .map(|d| parse_date(d, DateBound::StartOfDay))
                .transpose()
                .map_err(bad)?,
            until: req
                .one("until")
                .map(|d| parse_date(d, DateBound::EndOfDay))
                .transpose()
                .map_err(bad)?,
            status: req
                .one("status")
                .map(RowStatus::parse)
                .transpose()
                .map_err(bad)?,
            group: text("group"),
            limit: Some(req.one("limit").and_then(|l| l.parse().ok()).unwrap_or(200)),
        })
    }

    fn index(&self, store: &Store, req: &Request) -> Result<Response, Response> {
        let filter = Self::filter(req)?;
        let rows = store
            .list(&filter)
            .map_err(|e| Response::error(500, &format!("{e:#}")))?;
        let mut b = String::new();
        let field = |b: &mut String, name: &str, hint: &str| {
            let _ = write!(
                b,
                "<label>{name} <input name=\"{name}\" value=\"{}\" placeholder=\"{hint}\" size=12></label> ",
                esc(req.one(name).unwrap_or(""))
            );
        };
        b.push_str("<form method=get action=\"/\" class=filters>");
        for (name, hint) in [
            ("tag", ""),
            ("workload", ""),
            ("scenario", "Offline"),
            ("sut", ""),
            ("since", "YYYY-MM-DD"),
            ("until", "YYYY-MM-DD"),
            ("status", "completed"),
            ("group", ""),
            ("limit", "200"),
        ] {
            field(&mut b, name, hint);
        }
        b.push_str("<button>filter</button> <a href=\"/\">clear</a></form>");
        let _ = write!(
            b,
            "<p>{} run(s) in {}{}</p>",
            rows.len(),
            esc(&self.store_path.display().to_string()),
            if self.allow_writes {
                ""
            } else {
                " (read-only)"
            }
        );
        b.push_str(
            "<form method=get action=\"/report\"><table><tr><th>A</th><th>B</th><th>id</th><th>when (UTC)</th><th>workload</th><th>scenario</th><th>SUT</th><th>verdict</th><th>main metric</th><th>tags</th><th>status</th></tr>",
        );
        for r in &rows {
            let id = esc(&r.id);
            let metric = match (&r.metric_name, r.metric_value) {
                (Some(n), Some(v)) => format!(
                    "{} {}",
                    esc(n),
                    esc(&crate::runs_cmd::format_value(
                        v,
                        r.metric_unit.as_deref().unwrap_or("")
                    ))
                ),
                _ => "-".to_string(),
            };
            let _ = write!(
                b,
                "<tr><td><input type=checkbox name=a value=\"{id}\"></td><td><input type=checkbox name=b value=\"{id}\"></td>\
                 <td><a href=\"/runs/{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"v-{}\">{}</td><td>{metric}</td><td>{}</td><td>{}</td></tr>",
                r.started_at.format("%Y-%m-%d %H:%M:%S"),
                esc(&r.workload),
                esc(r.scenario.as_deref().unwrap_or("-")),
                esc(r.sut.as_deref().unwrap_or("-")),
                esc(&r.verdict).replace('/', ""),
                esc(&r.verdict),
                esc(&r.tags.join(", ")),
                r.status.as_str(),
            );
        }
        b.push_str(
            "</table><p><button formaction=\"/report\">report of the ticked runs (A and B)</button> \
             <button formaction=\"/compare\">compare A against B</button></p></form>",
        );
        if self.allow_writes {
            b.push_str(
                "<h2>Change</h2><form method=post action=\"/tag\"><label>run id <input name=id size=24></label> \
                 <label>tags <input name=changes placeholder=\"+keep -old\" size=24></label> <button>tag</button></form>\
                 <form method=post action=\"/delete\"><label>run id <input name=id size=24></label> <button>delete</button></form>",
            );
        }
        Ok(Response::html(page("yardstick runs", &b)))
    }

    fn records(&self, store: &Store, ids: &[&str]) -> Result<Vec<RunRecord>, Response> {
        let mut out: Vec<RunRecord> = Vec::new();
        for id in ids {
            let r = store.get(id).map_err(|e| match e {
                yardstick_store::StoreError::NotFound(_)
                | yardstick_store::StoreError::Ambiguous { .. } => {
                    Response::error(404, &e.to_string())
                }
                other => Response::error(500, &format!("{other:#}")),
            })?;
            if out.iter().all(|x| x.id != r.id) {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn run_page(&self, store: &Store, rest: &str) -> Result<Response, Response> {
        if let Some(id) = rest.strip_suffix(".json") {
            let r = self.records(store, &[id])?;
            let body = serde_json::to_string_pretty(&r[0])
                .map_err(|e| Response::error(500, &e.to_string()))?;
            return Ok(Response {
                status: 200,
                content_type: "application/json",
                body,
            });
        }
        let runs = self.records(store, &[rest])?;
        Ok(Response::html(render_report(&runs)))
    }

    fn report(&self, store: &Store, req: &Request) -> Result<Response, Response> {
        let mut ids = req.all("a");
        ids.extend(req.all("b"));
        ids.extend(req.all("id"));
        if ids.is_empty() {
            return Err(Response::error(400, "tick at least one run (A or B)"));
        }
        let runs = self.records(store, &ids)?;
        Ok(Response::html(render_report(&runs)))
    }

    fn compare(&self, store: &Store, req: &Request) -> Result<Response, Response> {
        let (a, b) = (req.all("a"), req.all("b"));
        if a.is_empty() || b.is_empty() {
            return Err(Response::error(
                400,
                "tick at least one run in column A and one in column B",
            ));
        }
        let runs_a = self.records(store, &a)?;
        let runs_b = self.records(store, &b)?;
        let options = yardstick_compare::CompareOptions {
            label_a: format!("A ({} run(s))", runs_a.len()),
            label_b: format!("B ({} run(s))", runs_b.len()),
            ..Default::default()
        };
        let comparison = yardstick_compare::compare(&runs_a, &runs_b, &options);
        let mut body = String::new();
        let _ = write!(
            body,
            "<p>A: {}<br>B: {}</p><pre>{}</pre><p><a href=\"/report?{}\">report of all of them</a> · <a href=\"/\">all runs</a></p>",
            esc(&a.join(", ")),
            esc(&b.join(", ")),
            esc(&yardstick_compare::to_text(&comparison)),
            a.iter()
                .map(|x| format!("a={}", url_encode(x)))
                .chain(b.iter().map(|x| format!("b={}", url_encode(x))))
                .collect::<Vec<_>>()
                .join("&amp;")
        );
        Ok(Response::html(page("yardstick compare", &body)))
    }

    fn write(&self, store: &mut Store, req: &Request) -> Result<Response, Response> {
        let id = req
            .one("id")
            .ok_or_else(|| Response::error(400, "which run? (id)"))?;
        let err = |e: yardstick_store::StoreError| Response::error(400, &e.to_string());
        if req.path == "/delete" {
            store.delete(id).map_err(err)?;
        } else {
            let (mut add, mut remove) = (Vec::new(), Vec::new());
            for c in req.one("changes").unwrap_or("").split_whitespace() {
                match c.strip_prefix('-') {
                    Some(t) => remove.push(t.to_string()),
                    None => add.push(c.strip_prefix('+').unwrap_or(c).to_string()),
                }
            }
            store.tag(id, &add, &remove).map_err(err)?;
        }
        Ok(Response::redirect_home())
    }
}

/// `localhost:PORT` for a server bound to `127.0.0.1:PORT`.
fn is_loopback_alias(host: &str, bound: &str) -> bool {
    let port = |s: &str| s.rsplit_once(':').map(|(_, p)| p.to_string());
    bound.starts_with("127.0.0.1:") && host.starts_with("localhost:") && port(host) == port(bound)
}

fn render_report(runs: &[RunRecord]) -> String {
    let options = yardstick_report::ReportOptions {
        title: None,
        generated_at: Some(chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()),
    };
    yardstick_report::render_html(runs, &options)
}

/// Reads one request: the request line, the headers and a form body.
fn read_request(stream: &TcpStream) -> Result<Request, String> {
    let mut reader = BufReader::new(stream.take(MAX_REQUEST as u64));
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    let mut parts = line.split_whitespace();
    let method = parts.next().ok_or("empty request")?.to_string();
    let target = parts.next().ok_or("no request target")?.to_string();
    let mut host = None;
    let mut origin = None;
    let mut content_length = 0usize;
    loop {
        let mut h = String::new();
        let n = reader
            .read_line(&mut h)
            .map_err(|e| format!("cannot read the headers: {e}"))?;
        if n == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let v = v.trim().to_string();
            match k.trim().to_ascii_lowercase().as_str() {
                "host" => host = Some(v),
                "origin" => origin = Some(v),
                "content-length" => content_length = v.parse().map_err(|_| "bad Content-Length")?,
                _ => {}
            }
        }
    }
    if content_length > MAX_REQUEST {
        return Err("request too large".to_string());
    }
    let mut body = vec![0u8; content_length];
    reader
        .read_exact(&mut body)
        .map_err(|e| format!("cannot read the body: {e}"))?;
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    Ok(Request {
        method,
        path: url_decode(path),
        query: parse_form(query),
        host,
        origin,
        form: parse_form(&String::from_utf8_lossy(&body)),
    })
}

/// `a=1&b=x+y` -> [("a", "1"), ("b", "x y")].
fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// HTML-escapes text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=utf-8><title>{}</title><style>\
         body{{font:14px system-ui,sans-serif;margin:1.5em}}table{{border-collapse:collapse}}\
         td,th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;white-space:nowrap}}\
         .v-VALID{{color:#070}}.v-INVALID{{color:#b00}}.err{{color:#b00}}.filters label{{margin-right:.6em}}\
         pre{{background:#f6f6f6;padding:1em;overflow:auto}}</style></head><body><h1><a href=\"/\">yardstick</a> · {}</h1>{body}</body></html>",
        esc(title),
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_text_escapes() {
        assert_eq!(
            parse_form("a=1&b=x+y&c=%2Bt%20-u&d"),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "x y".to_string()),
                ("c".to_string(), "+t -u".to_string()),
                ("d".to_string(), String::new()),
            ]
        );
        assert_eq!(url_decode("%zz%4"), "%zz%4");
        assert_eq!(url_decode("%é"), "%é");
        assert_eq!(url_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
        assert!(is_loopback_alias("localhost:8080", "127.0.0.1:8080"));
        assert!(!is_loopback_alias("localhost:8081", "127.0.0.1:8080"));
        assert!(!is_loopback_alias("evil.example:8080", "127.0.0.1:8080"));
    }
}
