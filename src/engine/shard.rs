//! Splitting work across agents and source addresses, without the agents talking to each other:
//! `--shard K/N` keeps session `i` of every target when `i mod N == K - 1`, and
//! `--local-addr IP[,IP...]` binds session `i` to `addrs[i mod len]`. Pure.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Why `--shard` or `--local-addr` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShardError(pub String);

/// This agent's share: shard `k` (1-based) of `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    k: u32,
    n: u32,
}

impl Shard {
    /// Every session (the default: `1/1`).
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    pub fn new(k: u32, n: u32) -> Result<Shard, ShardError> {
        if n == 0 || k == 0 || k > n {
            return Err(ShardError(format!(
                "--shard {k}/{n}: need 1 <= K <= N (K is 1-based, as in 1/3, 2/3, 3/3)"
            )));
        }
        Ok(Shard { k, n })
    }

    /// 1-based index of this shard.
    pub fn k(self) -> u32 {
        self.k
    }

    pub fn n(self) -> u32 {
        self.n
    }

    /// Whether session `index` (0-based, counted per target) belongs to this shard.
    pub fn owns(self, index: usize) -> bool {
        index % self.n as usize == (self.k - 1) as usize
    }

    /// The indices in `0..sessions` this shard runs, in order. Shards of one `N` differ in size
    /// by at most one.
    pub fn indices(self, sessions: usize) -> impl ExactSizeIterator<Item = usize> {
        (self.k as usize - 1..sessions).step_by(self.n as usize)
    }

    /// How many of `sessions` this shard runs.
    pub fn count(self, sessions: usize) -> usize {
        self.indices(sessions).len()
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::ALL
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    /// `K/N`, as in `2/3`.
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let bad = || {
            ShardError(format!(
                "--shard '{s}': expected K/N with 1 <= K <= N, as in 2/3"
            ))
        };
        let (k, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let k: u32 = k.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        Shard::new(k, n)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// Source addresses for outgoing connections, handed out round-robin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAddrs(Vec<IpAddr>);

impl LocalAddrs {
    /// The address session `index` binds to.
    pub fn for_session(&self, index: usize) -> IpAddr {
        self.0[index % self.0.len()]
    }

    pub fn addrs(&self) -> &[IpAddr] {
        &self.0
    }
}

impl FromStr for LocalAddrs {
    type Err = ShardError;

    /// `IP[,IP...]`: at least one address, no duplicates.
    fn from_str(s: &str) -> Result<LocalAddrs, ShardError> {
        let mut addrs: Vec<IpAddr> = Vec::new();
        for part in s.split(',').map(str::trim) {
            let ip: IpAddr = part.trim_matches(['[', ']']).parse().map_err(|_| {
                ShardError(format!(
                    "--local-addr: '{part}' is not an IP address (as in 127.0.0.2,127.0.0.3)"
                ))
            })?;
            if addrs.contains(&ip) {
                return Err(ShardError(format!("--local-addr: {ip} is listed twice")));
            }
            addrs.push(ip);
        }
        Ok(LocalAddrs(addrs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(s: &str) -> Shard {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_k_of_n() {
        assert_eq!(shard("2/3"), Shard::new(2, 3).expect("valid"));
        assert_eq!(shard(" 1 / 1 "), Shard::ALL);
        assert_eq!(shard("3/3").to_string(), "3/3");
        for bad in [
            "0/3", "4/3", "1/0", "0/0", "3", "a/3", "1/b", "-1/3", "1/3/4", "",
        ] {
            let e = bad.parse::<Shard>().expect_err(bad);
            assert!(e.0.contains("--shard"), "{bad}: {e}");
        }
    }

    #[test]
    fn shards_of_n_cover_every_session_exactly_once_and_evenly() {
        for n in 1..=7u32 {
            for sessions in [0usize, 1, 2, 3, 10, 100, 1001] {
                let mut owner = vec![0u32; sessions];
                let mut sizes = Vec::new();
                for k in 1..=n {
                    let s = Shard::new(k, n).expect("valid");
                    let mine: Vec<usize> = s.indices(sessions).collect();
                    assert_eq!(mine.len(), s.count(sessions));
                    for &i in &mine {
                        assert!(s.owns(i));
                        owner[i] += 1;
                    }
                    assert_eq!(
                        (0..sessions).filter(|&i| s.owns(i)).count(),
                        mine.len(),
                        "owns and indices agree"
                    );
                    sizes.push(mine.len());
                }
                assert!(owner.iter().all(|&c| c == 1), "n={n} sessions={sessions}");
                let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
                assert!(hi.zip(lo).is_none_or(|(h, l)| h - l <= 1), "{sizes:?}");
            }
        }
        let thirds: Vec<Vec<usize>> = ["1/3", "2/3", "3/3"]
            .iter()
            .map(|s| shard(s).indices(7).collect())
            .collect();
        assert_eq!(thirds, [vec![0, 3, 6], vec![1, 4], vec![2, 5]]);
    }

    #[test]
    fn local_addrs_round_robin() {
        let a: LocalAddrs = "127.0.0.2, 127.0.0.3,127.0.0.4".parse().expect("valid");
        let picked: Vec<String> = (0..7).map(|i| a.for_session(i).to_string()).collect();
        assert_eq!(
            picked,
            [
                "127.0.0.2",
                "127.0.0.3",
                "127.0.0.4",
                "127.0.0.2",
                "127.0.0.3",
                "127.0.0.4",
                "127.0.0.2"
            ]
        );
        let one: LocalAddrs = "[::1]".parse().expect("v6");
        assert_eq!(one.for_session(5).to_string(), "::1");
        assert_eq!(one.addrs().len(), 1);
        for bad in [
            "",
            "127.0.0.2,",
            "localhost",
            "127.0.0.2,127.0.0.2",
            "1.2.3",
        ] {
            let e = bad.parse::<LocalAddrs>().expect_err(bad);
            assert!(e.0.contains("--local-addr"), "{bad}: {e}");
        }
    }
}
