//! Real proxy servers for the tests, started on 127.0.0.1: `tinyproxy` (HTTP CONNECT) and
//! `microsocks` (SOCKS5), both Debian packages installed by `bash tests/peers/install.sh`.
//! A missing server FAILS the test with that hint.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::net::TcpStream;

pub const INSTALL_HINT: &str = "run `bash tests/peers/install.sh` first (CI's .ci/run does it)";

/// A proxy process, killed and reaped on drop.
pub struct ProxyPeer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for ProxyPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use super::free_port;

pub fn spawn(program: &str, args: &[&str], dir: &Path) -> Child {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}; {INSTALL_HINT}"))
}

pub async fn wait_listening(name: &str, port: u16, child: &mut Child) {
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{name} exited early with {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} did not listen on 127.0.0.1:{port} within 5 s");
}

/// tinyproxy on loopback allowing CONNECT only to `allowed_port`, with Basic credentials if given.
pub async fn tinyproxy(allowed_port: u16, auth: Option<(&str, &str)>) -> ProxyPeer {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n\
         ConnectPort {allowed_port}\nLogLevel Warning\n"
    );
    if let Some((user, pass)) = auth {
        conf.push_str(&format!("BasicAuth {user} {pass}\n"));
    }
    let path = dir.path().join("tinyproxy.conf");
    std::fs::write(&path, conf).expect("write tinyproxy.conf");
    let path = path.to_string_lossy().into_owned();
    let mut child = spawn("tinyproxy", &["-d", "-c", &path], dir.path());
    wait_listening("tinyproxy", port, &mut child).await;
    ProxyPeer {
        child,
        port,
        _dir: dir,
    }
}

pub async fn microsocks(auth: Option<(&str, &str)>) -> ProxyPeer {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let port_s = port.to_string();
    let mut args = vec!["-i", "127.0.0.1", "-p", port_s.as_str()];
    if let Some((user, pass)) = auth {
        args.extend(["-u", user, "-P", pass]);
    }
    let mut child = spawn("microsocks", &args, dir.path());
    wait_listening("microsocks", port, &mut child).await;
    ProxyPeer {
        child,
        port,
        _dir: dir,
    }
}
