//! The real binary and the scenario server for tests that run `wsmon` as a user would
//! (`assert_cmd`), with the server on its own runtime on 127.0.0.1:0.

use assert_cmd::Command;

/// `wsmon` without colours and without the caller's proxy variables.
pub fn wsmon() -> Command {
    let mut c = Command::cargo_bin("wsmon").expect("binary is built");
    c.env("NO_COLOR", "1");
    for v in wsmon::engine::settings::PROXY_ENV_VARS {
        c.env_remove(v);
    }
    c
}

/// The scenario server, stopped when dropped.
pub struct Server {
    rt: tokio::runtime::Runtime,
    handle: Option<wsmon::server::ServerHandle>,
}

impl Server {
    pub fn start() -> Server {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let handle = rt
            .block_on(wsmon::server::start("127.0.0.1:0"))
            .expect("scenario server starts");
        Server {
            rt,
            handle: Some(handle),
        }
    }
    pub fn url(&self, path: &str) -> String {
        self.handle.as_ref().expect("running").url(path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}
