//! The reconnect policy: a pure function from "what ended this attempt" to "when (and whether)
//! to try again". No clock, no I/O, randomness comes from the caller's RNG so tests are
//! reproducible.
//!
//! - Exponential backoff (window `min(cap, base * factor^(n-1))` for retry `n`) with jitter
//!   (AWS Architecture Blog, "Exponential Backoff And Jitter") for overload and network trouble:
//!   1011, 1013, 1014, 1006, DNS/connect/I/O errors (a TLS handshake cut off midway is an I/O
//!   error), timeouts, HTTP 408, 429 and 5xx.
//! - A random restart delay (default 5-30 s) for 1012 Service Restart and 1001 Going Away.
//! - No retry for problems a retry does not fix (1000, 1002, 1003, 1007-1010, HTTP 4xx other
//!   than 408 and 429, a refused certificate or TLS setup (1015), bad URLs, broken
//!   handshakes), with a one-line `why` the UI shows.
//! - `Retry-After` (RFC 9110 section 10.2.3) on a 429/503 answer is a floor for the delay,
//!   bounded by `retry_after_max`.
//! - The retry counter resets only after a connection stayed open for `stable_after`
//!   ([`next_attempt`]), so a server that accepts and closes at once keeps the window growing.
//!
//! Close-code advice comes from the caller (the knowledge base, `codes::Registry`), as a
//! closure `&dyn Fn(u16) -> Advice`; per-code overrides in [`BackoffConfig::overrides`] win.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::engine::events::{BackoffInfo, Cause, DelayKind, ErrorKind, Jitter};
use crate::protocol::proxy::Refusal;

/// What to do after a close code (the same four values as `codes::RetryAdvice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Advice {
    /// Do not retry: the problem will not go away by itself.
    Never,
    /// Retry with exponential backoff and jitter.
    Backoff,
    /// Retry after a random delay in the restart range (server restarting / going away).
    RestartDelay,
    /// Retry at once (only the first retry; later ones back off, see [`decide`]).
    Immediate,
}

/// Every knob of the reconnect policy. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct BackoffConfig {
    /// First window (default 1 s).
    pub base: Duration,
    /// Largest window (default 60 s).
    pub cap: Duration,
    /// Growth per retry (default 2).
    pub factor: f64,
    pub jitter: Jitter,
    /// Give up once this many retries were made (default: never give up).
    pub max_attempts: Option<u32>,
    /// Largest `Retry-After` honoured (default 300 s).
    pub retry_after_max: Duration,
    /// Delay range after 1012 / 1001 (default 5-30 s).
    pub restart_delay: (Duration, Duration),
    /// The retry counter resets only after a connection stayed open this long (default 10 s).
    pub stable_after: Duration,
    /// Per-close-code advice that wins over the knowledge base (`--retry-on`, `--no-retry-on`,
    /// config file).
    pub overrides: BTreeMap<u16, Advice>,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            factor: 2.0,
            jitter: Jitter::Full,
            max_attempts: None,
            retry_after_max: Duration::from_secs(300),
            restart_delay: (Duration::from_secs(5), Duration::from_secs(30)),
            stable_after: Duration::from_secs(10),
            overrides: BTreeMap::new(),
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackoffConfigError {
    #[error("backoff base must be greater than zero")]
    ZeroBase,
    #[error("backoff cap ({cap:?}) is smaller than the base ({base:?})")]
    CapBelowBase { base: Duration, cap: Duration },
    #[error("backoff factor must be a finite number >= 1, got {0}")]
    BadFactor(f64),
    #[error("restart delay range is reversed: {min:?} > {max:?}")]
    ReversedRestartRange { min: Duration, max: Duration },
    #[error("close code {0} is in both --retry-on and --no-retry-on")]
    ConflictingOverride(u16),
    #[error("{0} is not a close code that can be received (use 1000-4999)")]
    BadCode(u16),
}

impl BackoffConfig {
    /// Check the values that would make the policy misbehave (a zero base never grows, a
    /// reversed range cannot be drawn from).
    pub fn validate(&self) -> Result<(), BackoffConfigError> {
        if self.base.is_zero() {
            return Err(BackoffConfigError::ZeroBase);
        }
        if self.cap < self.base {
            return Err(BackoffConfigError::CapBelowBase {
                base: self.base,
                cap: self.cap,
            });
        }
        if !self.factor.is_finite() || self.factor < 1.0 {
            return Err(BackoffConfigError::BadFactor(self.factor));
        }
        let (min, max) = self.restart_delay;
        if min > max {
            return Err(BackoffConfigError::ReversedRestartRange { min, max });
        }
        Ok(())
    }
}

/// Build the override table from `--retry-on` (forced backoff) and `--no-retry-on` (forced
/// never). A code in both lists is an error, as is a code outside 1000-4999.
pub fn overrides_from(
    retry_on: &[u16],
    no_retry_on: &[u16],
) -> Result<BTreeMap<u16, Advice>, BackoffConfigError> {
    let mut map = BTreeMap::new();
    for &code in retry_on {
        check_code(code)?;
        map.insert(code, Advice::Backoff);
    }
    for &code in no_retry_on {
        check_code(code)?;
        if map.get(&code) == Some(&Advice::Backoff) {
            return Err(BackoffConfigError::ConflictingOverride(code));
        }
        map.insert(code, Advice::Never);
    }
    Ok(map)
}

fn check_code(code: u16) -> Result<(), BackoffConfigError> {
    if (1000..=4999).contains(&code) {
        Ok(())
    } else {
        Err(BackoffConfigError::BadCode(code))
    }
}

/// What happens after a close or a failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Try again after `delay`.
    Retry {
        /// The retry number this delay leads to (1 for the first retry).
        attempt: u32,
        kind: DelayKind,
        /// The range the delay was drawn from: the exponential window (or, for decorrelated
        /// jitter, the upper bound of the draw), the restart range's upper end, or zero.
        window: Duration,
        delay: Duration,
        /// The `Retry-After` honoured (already bounded by `retry_after_max`).
        retry_after: Option<Duration>,
    },
    /// Do not retry: the session ends as `closed`; `why` is one plain line for the UI.
    Stop { why: String },
    /// `max_attempts` retries were made; the session ends as `gave_up`.
    GiveUp { attempts: u32 },
}

impl Decision {
    /// The `Backoff` event payload for a `Retry` decision made at `now` (None otherwise).
    pub fn backoff_info(
        &self,
        cause: Cause,
        jitter: Jitter,
        now: DateTime<Utc>,
    ) -> Option<BackoffInfo> {
        match *self {
            Decision::Retry {
                attempt,
                kind,
                window,
                delay,
                retry_after,
            } => {
                let next = chrono::Duration::from_std(delay)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                Some(BackoffInfo {
                    attempt,
                    cause,
                    kind,
                    window_ms: millis(window),
                    delay_ms: millis(delay),
                    retry_after_ms: retry_after.map(millis),
                    jitter,
                    next_attempt_at: next,
                })
            }
            Decision::Stop { .. } | Decision::GiveUp { .. } => None,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The exponential window for retry `attempt` (1 for the first retry):
/// `min(cap, base * factor^(attempt-1))`. Never overflows: huge attempts give `cap`.
/// Attempt 0 is treated as 1.
pub fn window(cfg: &BackoffConfig, attempt: u32) -> Duration {
    let exp = f64::from(attempt.saturating_sub(1));
    let secs = cfg.base.as_secs_f64() * cfg.factor.powf(exp);
    let cap = cfg.cap.as_secs_f64();
    if !secs.is_finite() || secs >= cap {
        cfg.cap
    } else {
        Duration::try_from_secs_f64(secs).unwrap_or(cfg.cap)
    }
}

/// The retry number for the retry about to be scheduled. `current` is the retry number of the
/// last scheduled retry (0 before any), `uptime` how long the connection that just ended stayed
/// open (None if it never opened). The counter starts over at 1 only when that connection was
/// stable; otherwise it keeps counting, so accept-then-close-at-once keeps the window growing.
pub fn next_attempt(current: u32, uptime: Option<Duration>, stable_after: Duration) -> u32 {
    match uptime {
        Some(up) if up >= stable_after => 1,
        _ => current.saturating_add(1),
    }
}

/// The advice for a cause (overrides, then the knowledge base for close codes; the built-in
/// rules for statuses and errors), and the one-line reason when it is `Never`.
pub fn advice_for(
    cfg: &BackoffConfig,
    advice: &dyn Fn(u16) -> Advice,
    cause: &Cause,
) -> (Advice, Option<String>) {
    match *cause {
        Cause::Close { code } => {
            if let Some(&a) = cfg.overrides.get(&code) {
                let why = (a == Advice::Never).then(|| {
                    format!(
                        "{}: the configuration says never to retry this code (--no-retry-on)",
                        code_label(code)
                    )
                });
                return (a, why);
            }
            let a = advice(code);
            let why = (a == Advice::Never).then(|| close_why(code));
            (a, why)
        }
        Cause::Status { status } => status_advice(status),
        Cause::Error { kind } => error_advice(kind),
        Cause::Manual => (Advice::Immediate, None),
        Cause::Shutdown => (
            Advice::Never,
            Some("wsmon is stopping; nothing is retried".to_string()),
        ),
        // The transport failed, not the session: retry, on a new or a free connection.
        Cause::Connection { .. } => (Advice::Backoff, None),
    }
}

/// Everything [`decide`] needs to know about the attempt that just ended.
#[derive(Clone, Copy)]
pub struct DecideInput<'a> {
    pub cfg: &'a BackoffConfig,
    /// Close-code advice (the knowledge base); per-code overrides in `cfg` win over it.
    pub advice: &'a dyn Fn(u16) -> Advice,
    /// The retry number to schedule, from [`next_attempt`] (1 for the first retry).
    pub attempt: u32,
    /// What ended the attempt.
    pub cause: Cause,
    /// A parsed `Retry-After` from the upgrade answer; honoured for HTTP status causes only, as
    /// a floor for the delay, bounded by `retry_after_max`.
    pub retry_after: Option<Duration>,
    /// The previous delay, for decorrelated jitter (ignored for retry 1).
    pub prev_delay: Option<Duration>,
    /// The proxy's verdict when the cause is an `ErrorKind::Proxy` error.
    pub proxy: Option<Refusal>,
}

impl<'a> DecideInput<'a> {
    /// An input without `Retry-After` and without a previous delay.
    pub fn new(
        cfg: &'a BackoffConfig,
        advice: &'a dyn Fn(u16) -> Advice,
        attempt: u32,
        cause: Cause,
    ) -> Self {
        DecideInput {
            cfg,
            advice,
            attempt,
            cause,
            retry_after: None,
            prev_delay: None,
            proxy: None,
        }
    }
}

/// Decide what happens after `input.cause` ended an attempt.
///
/// `Cause::Manual` (the user's `r`) retries at once and is never subject to `max_attempts`.
/// `Advice::Immediate` retries at once only for retry 1; later retries back off so a server
/// that keeps closing cannot make the client spin.
pub fn decide<R: Rng + ?Sized>(input: &DecideInput<'_>, rng: &mut R) -> Decision {
    let DecideInput {
        cfg,
        advice,
        attempt,
        ref cause,
        retry_after,
        prev_delay,
        proxy,
    } = *input;
    let attempt = attempt.max(1);
    let (adv, why) = match (cause, proxy) {
        (
            Cause::Error {
                kind: ErrorKind::Proxy,
            },
            Some(r),
        ) => proxy_advice(r),
        _ => advice_for(cfg, advice, cause),
    };
    if matches!(cause, Cause::Manual) {
        return Decision::Retry {
            attempt,
            kind: DelayKind::Immediate,
            window: Duration::ZERO,
            delay: Duration::ZERO,
            retry_after: None,
        };
    }
    if adv == Advice::Never {
        return Decision::Stop {
            why: why.unwrap_or_else(|| "retrying will not help".to_string()),
        };
    }
    if let Some(max) = cfg.max_attempts
        && attempt > max
    {
        return Decision::GiveUp {
            attempts: attempt - 1,
        };
    }
    let retry_after = match cause {
        Cause::Status { .. } => retry_after.map(|ra| ra.min(cfg.retry_after_max)),
        _ => None,
    };
    let (kind, window, delay) = match adv {
        Advice::Immediate if attempt == 1 => (DelayKind::Immediate, Duration::ZERO, Duration::ZERO),
        Advice::RestartDelay => {
            let (lo, hi) = cfg.restart_delay;
            (DelayKind::RestartDelay, hi, uniform(rng, lo, hi))
        }
        // Backoff, and Immediate after the first retry.
        _ => {
            let (window, delay) = jittered(cfg, attempt, prev_delay, rng);
            (DelayKind::Backoff, window, delay)
        }
    };
    let delay = match retry_after {
        Some(ra) => delay.max(ra),
        None => delay,
    };
    Decision::Retry {
        attempt,
        kind,
        window,
        delay,
        retry_after,
    }
}

/// (window, delay) for an exponential backoff retry.
fn jittered<R: Rng + ?Sized>(
    cfg: &BackoffConfig,
    attempt: u32,
    prev_delay: Option<Duration>,
    rng: &mut R,
) -> (Duration, Duration) {
    let w = window(cfg, attempt);
    match cfg.jitter {
        Jitter::None => (w, w),
        Jitter::Full => (w, uniform(rng, Duration::ZERO, w)),
        Jitter::Equal => {
            let half = w / 2;
            (w, half + uniform(rng, Duration::ZERO, w - half))
        }
        Jitter::Decorrelated => {
            let prev = match prev_delay {
                Some(p) if attempt > 1 => p,
                _ => cfg.base,
            };
            let hi = prev.saturating_mul(3).max(cfg.base).min(cfg.cap);
            let lo = cfg.base.min(hi);
            (hi, uniform(rng, lo, hi))
        }
    }
}

/// Uniform in [lo, hi] at nanosecond resolution (lo when the range is empty).
fn uniform<R: Rng + ?Sized>(rng: &mut R, lo: Duration, hi: Duration) -> Duration {
    if hi <= lo {
        return lo;
    }
    let span = u64::try_from((hi - lo).as_nanos()).unwrap_or(u64::MAX);
    lo + Duration::from_nanos(rng.random_range(0..=span))
}

/// Parse a restart delay range such as "5s-30s" or "5-30" (seconds). Min must not exceed max.
pub fn parse_restart_range(s: &str) -> Result<(Duration, Duration), String> {
    let (a, b) = s.split_once('-').ok_or_else(|| {
        format!("invalid restart delay range '{s}' (expected MIN-MAX, e.g. 5s-30s)")
    })?;
    let lo = crate::units::parse_duration(a)?;
    let hi = crate::units::parse_duration(b)?;
    if lo > hi {
        return Err(format!(
            "invalid restart delay range '{s}': the minimum is larger than the maximum"
        ));
    }
    Ok((lo, hi))
}

/// The knowledge base's advice for a close code (what a session uses, without overrides).
pub fn default_advice(code: u16) -> Advice {
    crate::codes::Registry::builtin().retry_advice(code).into()
}

/// The RFC 6455 semantics, written out independently, to check the knowledge base against.
#[cfg(test)]
pub(crate) fn rfc_advice(code: u16) -> Advice {
    match code {
        1000 | 1002 | 1003 | 1007 | 1008 | 1009 | 1010 => Advice::Never,
        1001 | 1012 => Advice::RestartDelay,
        _ => Advice::Backoff,
    }
}

/// "1008 Policy Violation": the code and its name from the knowledge base.
fn code_label(code: u16) -> String {
    format!("{code} {}", crate::codes::Registry::builtin().name(code))
}

fn close_why(code: u16) -> String {
    let tail = match code {
        1000 => "the connection was ended on purpose; there is nothing to retry",
        1002 => "one side broke the WebSocket protocol; retrying will not fix it",
        1003 => "the peer cannot accept this kind of data; retrying will not help",
        1007 => {
            "a message was not valid for its type (e.g. text that is not UTF-8); retrying will not help"
        }
        1008 => "the server refused this client; retrying will not help",
        1009 => "a message was larger than allowed; retrying will not help",
        1010 => "a required extension was not negotiated; retrying will not help",
        _ => "the close-code knowledge base says retrying will not help",
    };
    format!("{}: {tail}", code_label(code))
}

fn status_advice(status: u16) -> (Advice, Option<String>) {
    // 429, 502, 503 and 504 are the classic "try again later" answers; other 5xx are server
    // trouble that may pass too. 4xx says the request itself is wrong.
    if crate::codes::http::retry_advice(status) != crate::codes::RetryAdvice::Never {
        return (crate::codes::http::retry_advice(status).into(), None);
    }
    let tail = match status {
        400 => " Bad Request: the server rejected the upgrade request",
        401 => " Unauthorized: the upgrade needs valid credentials",
        403 => " Forbidden: the server refused this client",
        404 => " Not Found: there is no WebSocket endpoint at this path",
        402 | 405..=499 => ": the server rejected the upgrade request (client error)",
        300..=399 => ": the server redirects elsewhere and wsmon does not follow redirects",
        _ => ": this is not an answer to a WebSocket upgrade",
    };
    (
        Advice::Never,
        Some(format!("HTTP {status}{tail}; retrying will not help")),
    )
}

fn error_advice(kind: ErrorKind) -> (Advice, Option<String>) {
    let why = match kind {
        // A proxy failure without a verdict from the proxy (see [`proxy_advice`]) backs off.
        ErrorKind::Dns
        | ErrorKind::Connect
        | ErrorKind::Timeout
        | ErrorKind::Io
        | ErrorKind::Proxy
        // Out of file descriptors: a local fault that passes when sessions close; backing off
        // (not spinning) gives them the time to.
        | ErrorKind::Resource
        // A script step that timed out, or a stale conversation closed by
        // `--stale-action reconnect`: a real client reconnects (with backoff) and says hello
        // again.
        | ErrorKind::Script
        | ErrorKind::Stale => return (Advice::Backoff, None),
        ErrorKind::Internal => "a bug in wsmon ended this session (see its error event)",
        // One rule, owned by the knowledge base's 1015 entry: a refused certificate or TLS
        // setup is not retried (interrupted TLS handshakes are reported as `Io`).
        ErrorKind::Tls => match default_advice(1015) {
            Advice::Never => {
                "the TLS handshake was refused (certificate or TLS setup); \
                              retrying will not help"
            }
            other => return (other, None),
        },
        ErrorKind::Url => "the URL cannot be used; fix it and start again",
        ErrorKind::Handshake => {
            "the server's answer was not a valid WebSocket upgrade; retrying will not help"
        }
        ErrorKind::Extension => {
            "the server's extension answer broke RFC 6455/7692; retrying will not help"
        }
        ErrorKind::Protocol => {
            "the connection broke the WebSocket protocol; retrying will not fix it"
        }
    };
    (Advice::Never, Some(why.to_string()))
}

/// The advice for a proxy failure, from the proxy's own verdict
/// ([`crate::protocol::proxy::ProxyError::retryable`]): refused credentials or a forbidden target
/// are not retried; a bad gateway, an unreachable proxy or a timeout back off.
pub fn proxy_advice(refusal: Refusal) -> (Advice, Option<String>) {
    if refusal.retryable {
        return (Advice::Backoff, None);
    }
    let with = match refusal.status {
        Some(s) if s >= 100 => format!(" with HTTP {s}"),
        Some(c) => format!(
            " with SOCKS5 reply {c} ({})",
            crate::protocol::proxy::socks_reply_text(u8::try_from(c).unwrap_or(u8::MAX))
        ),
        None => String::new(),
    };
    (
        Advice::Never,
        Some(format!(
            "the proxy refused the tunnel{with}; retrying will not help (check --proxy and its credentials)"
        )),
    )
}

impl From<crate::codes::RetryAdvice> for Advice {
    fn from(a: crate::codes::RetryAdvice) -> Self {
        use crate::codes::RetryAdvice as R;
        match a {
            R::Never => Advice::Never,
            R::Backoff => Advice::Backoff,
            R::RestartDelay => Advice::RestartDelay,
            R::Immediate => Advice::Immediate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn cfg(jitter: Jitter) -> BackoffConfig {
        BackoffConfig {
            jitter,
            ..BackoffConfig::default()
        }
    }

    fn retry(d: &Decision) -> (u32, DelayKind, Duration, Duration, Option<Duration>) {
        match *d {
            Decision::Retry {
                attempt,
                kind,
                window,
                delay,
                retry_after,
            } => (attempt, kind, window, delay, retry_after),
            ref other => panic!("expected a retry, got {other:?}"),
        }
    }

    fn decide_simple(c: &BackoffConfig, attempt: u32, cause: Cause) -> Decision {
        let mut rng = SmallRng::seed_from_u64(7);
        decide(
            &DecideInput::new(c, &default_advice, attempt, cause),
            &mut rng,
        )
    }

    #[test]
    fn proxy_failures_follow_the_proxys_verdict_and_name_the_status() {
        let c = BackoffConfig::default();
        let cause = Cause::Error {
            kind: ErrorKind::Proxy,
        };
        let mut rng = SmallRng::seed_from_u64(7);
        let with = |status: Option<u16>, retryable: bool, rng: &mut SmallRng| {
            decide(
                &DecideInput {
                    proxy: Some(Refusal { status, retryable }),
                    ..DecideInput::new(&c, &default_advice, 1, cause)
                },
                rng,
            )
        };
        match with(Some(407), false, &mut rng) {
            Decision::Stop { why } => assert!(why.contains("HTTP 407"), "{why}"),
            other => panic!("407 is not retried: {other:?}"),
        }
        match with(Some(2), false, &mut rng) {
            Decision::Stop { why } => assert!(why.contains("SOCKS5 reply 2"), "{why}"),
            other => panic!("SOCKS 'not allowed' is not retried: {other:?}"),
        }
        assert!(matches!(
            with(Some(502), true, &mut rng),
            Decision::Retry {
                kind: DelayKind::Backoff,
                ..
            }
        ));
        // Without the proxy's verdict (an unreachable proxy), a proxy error backs off.
        assert!(matches!(
            decide_simple(&c, 1, cause),
            Decision::Retry {
                kind: DelayKind::Backoff,
                ..
            }
        ));
    }

    #[test]
    fn windows_double_up_to_the_cap() {
        let c = BackoffConfig::default();
        let got: Vec<u64> = (1..=9).map(|n| window(&c, n).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(window(&c, 0), secs(1), "attempt 0 is treated as the first");
    }

    #[test]
    fn huge_attempts_do_not_overflow() {
        let c = BackoffConfig::default();
        assert_eq!(window(&c, 1000), secs(60));
        assert_eq!(window(&c, u32::MAX), secs(60));
        for jitter in [
            Jitter::Full,
            Jitter::Equal,
            Jitter::Decorrelated,
            Jitter::None,
        ] {
            let d = decide(
                &DecideInput {
                    prev_delay: Some(secs(60)),
                    ..DecideInput::new(
                        &cfg(jitter),
                        &default_advice,
                        1000,
                        Cause::Close { code: 1013 },
                    )
                },
                &mut SmallRng::seed_from_u64(1),
            );
            let (attempt, _, w, delay, _) = retry(&d);
            assert_eq!(attempt, 1000);
            assert!(w <= secs(60) && delay <= secs(60), "{jitter:?}: {d:?}");
        }
        let d = decide_simple(&cfg(Jitter::None), u32::MAX, Cause::Close { code: 1013 });
        assert_eq!(retry(&d).3, secs(60));
    }

    #[test]
    fn no_jitter_is_exactly_the_window() {
        let c = cfg(Jitter::None);
        for n in 1..=10 {
            let (_, kind, w, delay, _) = retry(&decide_simple(&c, n, Cause::Close { code: 1013 }));
            assert_eq!(kind, DelayKind::Backoff);
            assert_eq!(delay, w);
            assert_eq!(w, window(&c, n));
        }
    }

    #[test]
    fn full_jitter_stays_in_zero_to_window() {
        let c = cfg(Jitter::Full);
        let mut rng = SmallRng::seed_from_u64(42);
        let mut below_half = 0;
        for i in 0..2000u32 {
            let n = i % 8 + 1;
            let d = decide(
                &DecideInput::new(&c, &default_advice, n, Cause::Close { code: 1013 }),
                &mut rng,
            );
            let (_, _, w, delay, _) = retry(&d);
            assert!(delay <= w, "{delay:?} > {w:?}");
            if delay < w / 2 {
                below_half += 1;
            }
        }
        // Uniform over [0, w]: about half the draws fall below w/2.
        assert!((800..1200).contains(&below_half), "{below_half}");
    }

    #[test]
    fn equal_jitter_stays_in_upper_half() {
        let c = cfg(Jitter::Equal);
        let mut rng = SmallRng::seed_from_u64(3);
        for i in 0..2000u32 {
            let n = i % 8 + 1;
            let d = decide(
                &DecideInput::new(
                    &c,
                    &default_advice,
                    n,
                    Cause::Error {
                        kind: ErrorKind::Connect,
                    },
                ),
                &mut rng,
            );
            let (_, _, w, delay, _) = retry(&d);
            assert!(
                delay >= w / 2 && delay <= w,
                "{delay:?} not in [{:?}, {w:?}]",
                w / 2
            );
        }
    }

    #[test]
    fn decorrelated_stays_between_base_and_cap_and_grows() {
        let c = cfg(Jitter::Decorrelated);
        let mut rng = SmallRng::seed_from_u64(11);
        let mut prev = None;
        let mut max_seen = Duration::ZERO;
        for n in 1..=200u32 {
            let d = decide(
                &DecideInput {
                    prev_delay: prev,
                    ..DecideInput::new(&c, &default_advice, n, Cause::Close { code: 1006 })
                },
                &mut rng,
            );
            let (_, _, w, delay, _) = retry(&d);
            assert!(delay >= c.base && delay <= c.cap, "{delay:?}");
            let bound = prev
                .filter(|_| n > 1)
                .unwrap_or(c.base)
                .saturating_mul(3)
                .min(c.cap);
            assert!(
                delay <= bound && w == bound.max(c.base),
                "{delay:?} {w:?} {bound:?}"
            );
            max_seen = max_seen.max(delay);
            prev = Some(delay);
        }
        assert!(max_seen > secs(30), "decorrelated never grew: {max_seen:?}");
        // The first retry ignores a stale previous delay.
        let d = decide(
            &DecideInput {
                prev_delay: Some(secs(50)),
                ..DecideInput::new(&c, &default_advice, 1, Cause::Close { code: 1006 })
            },
            &mut rng,
        );
        assert!(retry(&d).3 <= secs(3));
    }

    #[test]
    fn causes_that_back_off() {
        let c = cfg(Jitter::None);
        let causes = [
            Cause::Close { code: 1013 },
            Cause::Close { code: 1011 },
            Cause::Close { code: 1014 },
            Cause::Close { code: 1006 },
            Cause::Error {
                kind: ErrorKind::Dns,
            },
            Cause::Error {
                kind: ErrorKind::Connect,
            },
            Cause::Error {
                kind: ErrorKind::Io,
            },
            Cause::Error {
                kind: ErrorKind::Timeout,
            },
            Cause::Status { status: 429 },
            Cause::Status { status: 502 },
            Cause::Status { status: 503 },
            Cause::Status { status: 504 },
            Cause::Status { status: 500 },
        ];
        for cause in causes {
            let (attempt, kind, w, delay, _) = retry(&decide_simple(&c, 3, cause));
            assert_eq!(
                (attempt, kind, w, delay),
                (3, DelayKind::Backoff, secs(4), secs(4)),
                "{cause:?}"
            );
        }
    }

    #[test]
    fn restart_codes_use_the_restart_range() {
        let c = BackoffConfig::default();
        let mut rng = SmallRng::seed_from_u64(5);
        for code in [1012, 1001] {
            for n in [1, 5, 50] {
                let d = decide(
                    &DecideInput::new(&c, &default_advice, n, Cause::Close { code }),
                    &mut rng,
                );
                let (_, kind, w, delay, _) = retry(&d);
                assert_eq!(kind, DelayKind::RestartDelay);
                assert_eq!(w, secs(30));
                assert!(delay >= secs(5) && delay <= secs(30), "{delay:?}");
            }
        }
    }

    #[test]
    fn causes_that_never_retry_say_why() {
        let c = BackoffConfig::default();
        let cases: Vec<(Cause, &str)> = vec![
            (Cause::Close { code: 1000 }, "1000 Normal Closure"),
            (Cause::Close { code: 1002 }, "1002 Protocol Error"),
            (Cause::Close { code: 1003 }, "1003 Unsupported Data"),
            (
                Cause::Close { code: 1007 },
                "1007 Invalid Frame Payload Data",
            ),
            (
                Cause::Close { code: 1008 },
                "1008 Policy Violation: the server refused this client; retrying will not help",
            ),
            (Cause::Close { code: 1009 }, "1009 Message Too Big"),
            (Cause::Close { code: 1010 }, "1010 Mandatory Extension"),
            (Cause::Status { status: 400 }, "HTTP 400"),
            (Cause::Status { status: 401 }, "HTTP 401 Unauthorized"),
            (Cause::Status { status: 403 }, "HTTP 403 Forbidden"),
            (Cause::Status { status: 404 }, "HTTP 404 Not Found"),
            (Cause::Status { status: 418 }, "HTTP 418"),
            (Cause::Status { status: 301 }, "redirects"),
            (
                Cause::Error {
                    kind: ErrorKind::Url,
                },
                "URL",
            ),
            (
                Cause::Error {
                    kind: ErrorKind::Tls,
                },
                "TLS handshake was refused",
            ),
            (
                Cause::Error {
                    kind: ErrorKind::Handshake,
                },
                "upgrade",
            ),
            (
                Cause::Error {
                    kind: ErrorKind::Extension,
                },
                "extension",
            ),
            (
                Cause::Error {
                    kind: ErrorKind::Protocol,
                },
                "protocol",
            ),
        ];
        for (cause, needle) in cases {
            match decide_simple(&c, 1, cause) {
                Decision::Stop { why } => {
                    assert!(why.contains(needle), "{cause:?}: {why}");
                    assert!(!why.contains('\n'), "why must be one line: {why}");
                }
                other => panic!("{cause:?} should not retry, got {other:?}"),
            }
        }
    }

    #[test]
    fn knowledge_base_advice_is_used_for_close_codes() {
        let c = cfg(Jitter::None);
        // A knowledge base that names 4000 as never and 4001 as a restart.
        let kb = |code: u16| match code {
            4000 => Advice::Never,
            4001 => Advice::RestartDelay,
            other => default_advice(other),
        };
        let mut rng = SmallRng::seed_from_u64(1);
        let d = decide(
            &DecideInput::new(&c, &kb, 1, Cause::Close { code: 4000 }),
            &mut rng,
        );
        assert!(
            matches!(d, Decision::Stop { ref why } if why.starts_with("4000 Private use")),
            "{d:?}"
        );
        let d = decide(
            &DecideInput::new(&c, &kb, 1, Cause::Close { code: 4001 }),
            &mut rng,
        );
        assert_eq!(retry(&d).1, DelayKind::RestartDelay);
    }

    #[test]
    fn overrides_win_over_the_knowledge_base() {
        let mut c = cfg(Jitter::None);
        c.overrides = overrides_from(&[1008, 4000], &[1013]).expect("valid overrides");
        let d = decide_simple(&c, 2, Cause::Close { code: 1008 });
        assert_eq!(retry(&d).1, DelayKind::Backoff);
        assert_eq!(retry(&d).3, secs(2));
        match decide_simple(&c, 1, Cause::Close { code: 1013 }) {
            Decision::Stop { why } => {
                assert!(
                    why.starts_with("1013 Try Again Later:") && why.contains("--no-retry-on"),
                    "{why}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            overrides_from(&[1013], &[1013]),
            Err(BackoffConfigError::ConflictingOverride(1013))
        );
        assert_eq!(
            overrides_from(&[999], &[]),
            Err(BackoffConfigError::BadCode(999))
        );
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let mut c = cfg(Jitter::None);
        c.max_attempts = Some(3);
        for n in 1..=3 {
            assert_eq!(
                retry(&decide_simple(&c, n, Cause::Close { code: 1013 })).0,
                n
            );
        }
        assert_eq!(
            decide_simple(&c, 4, Cause::Close { code: 1013 }),
            Decision::GiveUp { attempts: 3 }
        );
        assert_eq!(
            decide_simple(&c, 4, Cause::Close { code: 1012 }),
            Decision::GiveUp { attempts: 3 }
        );
        // A code that is never retried still says why rather than "gave up".
        assert!(matches!(
            decide_simple(&c, 4, Cause::Close { code: 1008 }),
            Decision::Stop { .. }
        ));
        // The user's manual reconnect is not limited.
        assert_eq!(
            retry(&decide_simple(&c, 4, Cause::Manual)).1,
            DelayKind::Immediate
        );
        c.max_attempts = Some(0);
        assert_eq!(
            decide_simple(&c, 1, Cause::Close { code: 1006 }),
            Decision::GiveUp { attempts: 0 }
        );
    }

    #[test]
    fn immediate_only_for_the_first_retry() {
        let c = cfg(Jitter::None);
        let kb = |_: u16| Advice::Immediate;
        let mut rng = SmallRng::seed_from_u64(1);
        let d = decide(
            &DecideInput::new(&c, &kb, 1, Cause::Close { code: 4100 }),
            &mut rng,
        );
        assert_eq!(
            retry(&d),
            (
                1,
                DelayKind::Immediate,
                Duration::ZERO,
                Duration::ZERO,
                None
            )
        );
        let d = decide(
            &DecideInput::new(&c, &kb, 3, Cause::Close { code: 4100 }),
            &mut rng,
        );
        assert_eq!(retry(&d), (3, DelayKind::Backoff, secs(4), secs(4), None));
    }

    #[test]
    fn retry_after_is_a_floor_bounded_by_the_maximum() {
        let c = cfg(Jitter::Full);
        let mut rng = SmallRng::seed_from_u64(9);
        let d = decide(
            &DecideInput {
                retry_after: Some(secs(120)),
                ..DecideInput::new(&c, &default_advice, 1, Cause::Status { status: 503 })
            },
            &mut rng,
        );
        let (_, kind, w, delay, ra) = retry(&d);
        assert_eq!(
            (kind, w, delay, ra),
            (DelayKind::Backoff, secs(1), secs(120), Some(secs(120)))
        );
        let d = decide(
            &DecideInput {
                retry_after: Some(secs(3600)),
                ..DecideInput::new(&c, &default_advice, 1, Cause::Status { status: 429 })
            },
            &mut rng,
        );
        assert_eq!(retry(&d).3, secs(300));
        assert_eq!(retry(&d).4, Some(secs(300)));
        // A short Retry-After does not shorten a longer backoff.
        let none = cfg(Jitter::None);
        let d = decide(
            &DecideInput {
                retry_after: Some(secs(2)),
                ..DecideInput::new(&none, &default_advice, 5, Cause::Status { status: 503 })
            },
            &mut rng,
        );
        assert_eq!(retry(&d).3, secs(16));
        // Not honoured for close codes (there is no HTTP answer behind them).
        let d = decide(
            &DecideInput {
                retry_after: Some(secs(99)),
                ..DecideInput::new(&none, &default_advice, 1, Cause::Close { code: 1013 })
            },
            &mut rng,
        );
        assert_eq!((retry(&d).3, retry(&d).4), (secs(1), None));
    }

    #[test]
    fn counter_resets_only_after_a_stable_connection() {
        let stable = secs(10);
        assert_eq!(next_attempt(0, None, stable), 1);
        assert_eq!(
            next_attempt(4, None, stable),
            5,
            "never opened: keep counting"
        );
        assert_eq!(
            next_attempt(4, Some(Duration::from_millis(50)), stable),
            5,
            "accepted then closed at once: keep counting"
        );
        assert_eq!(next_attempt(4, Some(secs(9)), stable), 5);
        assert_eq!(next_attempt(4, Some(secs(10)), stable), 1);
        assert_eq!(next_attempt(u32::MAX, None, stable), u32::MAX);
        // With 1013 right after each accept, the window keeps growing.
        let c = cfg(Jitter::None);
        let mut n = 0;
        let mut windows = vec![];
        for _ in 0..8 {
            n = next_attempt(n, Some(Duration::from_millis(20)), c.stable_after);
            windows.push(
                retry(&decide_simple(&c, n, Cause::Close { code: 1013 }))
                    .2
                    .as_secs(),
            );
        }
        assert_eq!(windows, vec![1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn restart_ranges_parse() {
        assert_eq!(parse_restart_range("5s-30s"), Ok((secs(5), secs(30))));
        assert_eq!(parse_restart_range("5-30"), Ok((secs(5), secs(30))));
        assert_eq!(
            parse_restart_range("500ms-2s"),
            Ok((Duration::from_millis(500), secs(2)))
        );
        assert!(parse_restart_range("30s-5s").is_err());
        assert!(parse_restart_range("30s").is_err());
        assert!(parse_restart_range("a-b").is_err());
    }

    #[test]
    fn config_validation() {
        assert_eq!(BackoffConfig::default().validate(), Ok(()));
        let bad = |f: fn(&mut BackoffConfig)| {
            let mut c = BackoffConfig::default();
            f(&mut c);
            c.validate()
        };
        assert_eq!(
            bad(|c| c.base = Duration::ZERO),
            Err(BackoffConfigError::ZeroBase)
        );
        assert!(matches!(
            bad(|c| c.cap = Duration::from_millis(10)),
            Err(BackoffConfigError::CapBelowBase { .. })
        ));
        assert!(matches!(
            bad(|c| c.factor = 0.5),
            Err(BackoffConfigError::BadFactor(_))
        ));
        assert!(matches!(
            bad(|c| c.factor = f64::NAN),
            Err(BackoffConfigError::BadFactor(_))
        ));
        assert!(matches!(
            bad(|c| c.restart_delay = (secs(30), secs(5))),
            Err(BackoffConfigError::ReversedRestartRange { .. })
        ));
    }

    #[test]
    fn backoff_info_for_the_event() {
        let c = cfg(Jitter::None);
        let cause = Cause::Status { status: 503 };
        let mut rng = SmallRng::seed_from_u64(1);
        let d = decide(
            &DecideInput {
                retry_after: Some(Duration::from_millis(2500)),
                ..DecideInput::new(&c, &default_advice, 2, cause)
            },
            &mut rng,
        );
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("valid ts");
        let info = d.backoff_info(cause, c.jitter, now).expect("a retry");
        assert_eq!(info.attempt, 2);
        assert_eq!(
            (info.window_ms, info.delay_ms, info.retry_after_ms),
            (2000, 2500, Some(2500))
        );
        assert_eq!(
            info.next_attempt_at,
            now + chrono::Duration::milliseconds(2500)
        );
        assert!(
            Decision::GiveUp { attempts: 1 }
                .backoff_info(cause, c.jitter, now)
                .is_none()
        );
    }

    #[test]
    fn knowledge_base_advice_matches_the_policy_for_every_listed_code() {
        for code in [
            1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
        ] {
            assert_eq!(default_advice(code), rfc_advice(code), "close code {code}");
        }
    }
}
