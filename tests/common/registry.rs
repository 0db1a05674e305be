//! A real `docker-registry` (Debian's 2.8.2, the CNCF distribution registry) on 127.0.0.1 at a
//! free port, started for one test and stopped when dropped; images built with `umoci` and
//! pushed with `skopeo` (no Docker daemon). docker-registry 2.8 has no OCI referrers API, so
//! everything the tests sign goes through the referrers tag schema fallback.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::system_bin;

pub struct TestRegistry {
    pub host: String,
    pub dir: tempfile::TempDir,
    /// `DOCKER_CONFIG` folder with this registry's credentials (empty for an open registry).
    pub docker_config: PathBuf,
    child: Child,
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The peers an OCI test needs, or None (skip; a failure under CI).
pub fn peers() -> Option<()> {
    for b in ["docker-registry", "umoci", "skopeo", "htpasswd"] {
        system_bin(b)?;
    }
    Some(())
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl TestRegistry {
    /// An open registry.
    pub fn start() -> Option<TestRegistry> {
        Self::start_with(None)
    }

    /// A registry with htpasswd basic auth for `user`/`pass`; its `docker_config` holds them.
    pub fn start_with_auth(user: &str, pass: &str) -> Option<TestRegistry> {
        Self::start_with(Some((user, pass)))
    }

    fn start_with(auth: Option<(&str, &str)>) -> Option<TestRegistry> {
        peers()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let docker_config = dir.path().join("docker");
        std::fs::create_dir_all(&docker_config).expect("mkdir");
        // A port taken between probe and bind makes the registry exit: retry a few times.
        for _ in 0..5 {
            let port = free_port();
            let host = format!("127.0.0.1:{port}");
            let mut config = format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
                dir.path().join("data").display()
            );
            if let Some((user, pass)) = auth {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, pass])
                    .output()
                    .expect("htpasswd");
                assert!(out.status.success(), "htpasswd failed");
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, &out.stdout).expect("write htpasswd");
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: mcpseal-test\n    path: {}\n",
                    file.display()
                ));
                use base64::Engine;
                let b64 =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
                std::fs::write(
                    docker_config.join("config.json"),
                    format!(r#"{{"auths":{{"{host}":{{"auth":"{b64}"}}}}}}"#),
                )
                .expect("write docker config");
            }
            let cfg = dir.path().join("config.yml");
            std::fs::write(&cfg, config).expect("write config");
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&cfg)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn docker-registry");
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if TcpStream::connect(&host).is_ok() {
                    return Some(TestRegistry {
                        host,
                        dir,
                        docker_config,
                        child,
                    });
                }
                if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("docker-registry did not start");
    }

    /// `mcpseal` in `dir` with this registry's credentials (`DOCKER_CONFIG`), for the caller to
    /// add arguments (and environment) to.
    pub fn mcpseal(&self, dir: &Path) -> Command {
        let mut c = super::mcpseal();
        c.current_dir(dir).env("DOCKER_CONFIG", &self.docker_config);
        c
    }

    /// `mcpseal ARGS` in `dir` with this registry's credentials: (exit code, stdout, stderr).
    pub fn run(&self, dir: &Path, args: &[&str]) -> (i32, String, String) {
        super::run(self.mcpseal(dir).args(args))
    }

    /// `oci://HOST/REPO:TAG`.
    pub fn url(&self, repo_tag: &str) -> String {
        format!("oci://{}/{repo_tag}", self.host)
    }

    /// Builds a one-layer image whose file holds `content` with umoci and pushes it to
    /// `repo:tag` with skopeo; returns its manifest digest (`sha256:…`).
    pub fn push_image(&self, repo_tag: &str, content: &str) -> String {
        self.push_image_with(repo_tag, content, &[], None)
    }

    /// [`Self::push_image`] with image config labels (`umoci config --config.label K=V`) and,
    /// optionally, another architecture than umoci's default.
    pub fn push_image_with(
        &self,
        repo_tag: &str,
        content: &str,
        labels: &[(&str, &str)],
        arch: Option<&str>,
    ) -> String {
        let work = tempfile::tempdir().expect("tempdir");
        let layout = work.path().join("layout");
        let file = work.path().join("server.txt");
        std::fs::write(&file, content).expect("write");
        let image = format!("{}:img", layout.display());
        run_ok(
            Command::new("umoci")
                .args(["init", "--layout"])
                .arg(&layout),
        );
        run_ok(Command::new("umoci").args(["new", "--image", &image]));
        run_ok(
            Command::new("umoci")
                .args(["insert", "--rootless", "--image", &image])
                .arg(&file)
                .arg("/server.txt"),
        );
        if !labels.is_empty() || arch.is_some() {
            let mut c = Command::new("umoci");
            c.args(["config", "--image", &image]);
            for (k, v) in labels {
                c.arg(format!("--config.label={k}={v}"));
            }
            if let Some(a) = arch {
                c.args(["--architecture", a, "--os", "linux"]);
            }
            run_ok(&mut c);
        }
        self.skopeo_copy(&format!("oci:{image}"), repo_tag, false);
        self.digest_of(repo_tag)
    }

    /// Puts an OCI index of manifests already in `repo` ((architecture, digest) each, linux)
    /// under `repo:tag`; returns its digest.
    pub fn push_index_of(&self, repo: &str, tag: &str, entries: &[(&str, &str)]) -> String {
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .map(|(arch, digest)| {
                let raw = self.skopeo(&["inspect", "--raw"], &format!("{repo}@{digest}"));
                serde_json::json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest,
                    "size": raw.len(),
                    "platform": {"os": "linux", "architecture": arch},
                })
            })
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        }))
        .expect("json");
        let (status, _, resp) = self.http(
            "PUT",
            &format!("/v2/{repo}/manifests/{tag}"),
            Some("application/vnd.oci.image.index.v1+json"),
            &body,
        );
        assert_eq!(status, 201, "PUT index: {}", String::from_utf8_lossy(&resp));
        format!("sha256:{}", sha256_hex(&body))
    }

    /// skopeo copy SRC docker://HOST/REPO_TAG (with credentials when the registry has them).
    pub fn skopeo_copy(&self, src: &str, repo_tag: &str, all: bool) {
        let mut c = Command::new("skopeo");
        c.args(["copy", "--dest-tls-verify=false"]);
        if all {
            c.arg("--all");
        }
        c.env("REGISTRY_AUTH_FILE", self.docker_config.join("config.json"));
        c.arg(src).arg(format!("docker://{}/{repo_tag}", self.host));
        run_ok(&mut c);
    }

    /// The manifest digest skopeo sees for `repo:tag`.
    pub fn digest_of(&self, repo_tag: &str) -> String {
        let out = self.skopeo(&["inspect", "--raw"], repo_tag);
        format!("sha256:{}", sha256_hex(&out))
    }

    /// Runs `skopeo ARGS… docker://HOST/REPO_TAG` and returns stdout.
    pub fn skopeo(&self, args: &[&str], repo_tag: &str) -> Vec<u8> {
        let mut c = Command::new("skopeo");
        c.args(args)
            .arg("--tls-verify=false")
            .env("REGISTRY_AUTH_FILE", self.docker_config.join("config.json"))
            .arg(format!("docker://{}/{repo_tag}", self.host));
        run_ok(&mut c)
    }
}

impl TestRegistry {
    /// One plain HTTP/1.1 request to this (open, loopback) registry: (status, content type, body).
    /// How a test plays an attacker who can write to the registry, byte for byte.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(&self.host).expect("connect");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        if let Some(ct) = content_type {
            req.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).expect("write");
        s.write_all(body).expect("write");
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).expect("read");
        let split = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("headers");
        let head = String::from_utf8_lossy(&resp[..split]).into_owned();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("status");
        let ct = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("Content-Type: ")
                    .or_else(|| l.strip_prefix("content-type: "))
            })
            .unwrap_or_default()
            .to_owned();
        let mut body = resp[split + 4..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = dechunk(&body);
        }
        (status, ct, body)
    }

    /// Copies the manifest at `repo:from` byte for byte to `repo:to` (as an attacker with push
    /// access would copy a signature onto another image).
    pub fn copy_manifest(&self, repo: &str, from: &str, to: &str) {
        let (status, ct, body) =
            self.http("GET", &format!("/v2/{repo}/manifests/{from}"), None, b"");
        assert_eq!(
            status,
            200,
            "GET {repo}:{from}: {}",
            String::from_utf8_lossy(&body)
        );
        let (status, _, resp) = self.http(
            "PUT",
            &format!("/v2/{repo}/manifests/{to}"),
            Some(&ct),
            &body,
        );
        assert_eq!(
            status,
            201,
            "PUT {repo}:{to}: {}",
            String::from_utf8_lossy(&resp)
        );
    }

    /// A blob's bytes.
    pub fn blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        let (status, _, body) = self.http("GET", &format!("/v2/{repo}/blobs/{digest}"), None, b"");
        assert_eq!(status, 200, "GET blob {digest}");
        body
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
}

/// SHA-256 hex of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn run_ok(c: &mut Command) -> Vec<u8> {
    let out = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}
