//! `--server-metrics auto|off|URL`, `--scrape-interval`: the server's own
//! Prometheus metrics, scraped during each point and kept with it (the
//! record's `server_metrics`, `server_metrics.csv` in the point's folder,
//! one printed line).

use std::cell::Cell;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use yardstick_endpoint::bench::parse_headers;
use yardstick_endpoint::server_metrics::{
    default_metrics_url, skipped, summary_line, ScrapeConfig, ScrapeResult, Scraper, RAW_FILE,
};
use yardstick_endpoint::Bench;
use yardstick_pipeline::record::{RunRecord, ServerMetrics};

use super::EndpointArgs;

/// The file role of the raw samples in the record.
pub const FILE_ROLE: &str = "server_metrics";

/// What every point of a run scrapes.
pub struct ServerScrape {
    config: Option<ScrapeConfig>,
    /// A server without metrics is told once per run, not once per point.
    warned: Cell<bool>,
}

impl ServerScrape {
    pub fn new(args: &EndpointArgs, bench: &Bench) -> Result<ServerScrape> {
        anyhow::ensure!(
            args.scrape_interval >= Duration::from_millis(10),
            "--scrape-interval must be at least 10ms"
        );
        let (url, headers) = match args.server_metrics.as_str() {
            "off" => {
                return Ok(ServerScrape {
                    config: None,
                    warned: Cell::new(false),
                })
            }
            // The benchmarked server itself: its headers (a gateway's API
            // key) go along.
            "auto" => (
                default_metrics_url(&args.url).context("--server-metrics auto")?,
                parse_headers(&bench.config.headers, bench.config.api_key.as_deref())?,
            ),
            // Another address (Triton's metrics port, a sidecar): the API
            // key is not sent to it.
            url if url.starts_with("http://") || url.starts_with("https://") => {
                (url.to_string(), Vec::new())
            }
            other => {
                bail!("--server-metrics: expected auto, off or an http(s):// URL, got `{other}`")
            }
        };
        Ok(ServerScrape {
            config: Some(ScrapeConfig {
                url,
                interval: args.scrape_interval,
                headers,
                trust: args.tls.trust(),
            }),
            warned: Cell::new(false),
        })
    }

    /// Starts scraping for a point (its baseline scrape now).
    pub fn start(&self) -> PointScrape {
        let Some(config) = &self.config else {
            return PointScrape::Off;
        };
        match Scraper::start(config.clone()) {
            Ok(s) => PointScrape::Running(s),
            Err(e) => {
                if !self.warned.replace(true) {
                    eprintln!(
                        "yardstick: warning: server metrics: {e}; the run goes on without them (--server-metrics off: do not ask)"
                    );
                }
                PointScrape::Skipped(Box::new(skipped(
                    &config.url,
                    config.interval.as_secs_f64(),
                    e.to_string(),
                )))
            }
        }
    }
}

/// A point's scraping, under way.
pub enum PointScrape {
    Off,
    Skipped(Box<ServerMetrics>),
    Running(Scraper),
}

impl PointScrape {
    /// Stops as the point's load ends (its last scrape closes the window).
    pub fn stop(self) -> Scraped {
        match self {
            PointScrape::Off => Scraped::Off,
            PointScrape::Skipped(m) => Scraped::Skipped(m),
            PointScrape::Running(s) => Scraped::Done(Box::new(s.finish())),
        }
    }
}

/// A point's scraping, over.
pub enum Scraped {
    Off,
    Skipped(Box<ServerMetrics>),
    Done(Box<ScrapeResult>),
}

impl Scraped {
    /// Keeps it with the point: the raw samples in `dir`, the summary in
    /// the record, one printed line.
    pub fn save(self, dir: &Path, record: &mut RunRecord) {
        match self {
            Scraped::Off => {}
            Scraped::Skipped(m) => record.server_metrics = Some(*m),
            Scraped::Done(result) => {
                let ScrapeResult {
                    record: mut metrics,
                    raw_csv,
                } = *result;
                let path = dir.join(RAW_FILE);
                match std::fs::write(&path, raw_csv) {
                    Ok(()) => {
                        metrics.raw_file = Some(path.clone());
                        record.add_file(FILE_ROLE, path);
                    }
                    Err(e) => eprintln!("yardstick: warning: writing {}: {e}", path.display()),
                }
                println!("             {}", summary_line(&metrics));
                record.server_metrics = Some(metrics);
            }
        }
    }
}
