//! Prometheus metrics (`--metrics ADDR`): one more sink of the runtime. The families and the
//! event counter are in [`registry`], the `/metrics` endpoint in [`http`]; the runtime feeds
//! every event to the counters and sets the gauges from the latest snapshot on each scrape.

pub mod http;
pub mod registry;
