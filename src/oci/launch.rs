//! Container launch specs: which argument of `docker run …` / `podman run …` is the image.
//!
//! A server launched as `docker run -i --rm -e KEY mcp/fetch:1 --flag` runs whatever the
//! registry serves for `mcp/fetch:1` at that moment. mcpseal pins the image's manifest digest
//! and keeps the launch to it, which needs the image argument found exactly: the first
//! argument after `run` that is not an option or an option's value. Options that take a value
//! are listed below (docker's and podman's `run` flags); an unknown option written without
//! `=value` makes the position ambiguous, and ambiguity is refused (fail closed), never
//! guessed.

/// The runtimes recognised, by the command's file name.
const RUNTIMES: &[&str] = &["docker", "podman", "nerdctl"];

/// Long options of `run` that take a value as the next argument.
const LONG_VALUE: &[&str] = &[
    "add-host",
    "annotation",
    "arch",
    "attach",
    "blkio-weight",
    "blkio-weight-device",
    "cap-add",
    "cap-drop",
    "cgroup-parent",
    "cgroupns",
    "cgroups",
    "cidfile",
    "conmon-pidfile",
    "cpu-period",
    "cpu-quota",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cpu-shares",
    "cpus",
    "cpuset-cpus",
    "cpuset-mems",
    "decryption-key",
    "detach-keys",
    "device",
    "device-cgroup-rule",
    "device-read-bps",
    "device-read-iops",
    "device-write-bps",
    "device-write-iops",
    "dns",
    "dns-option",
    "dns-search",
    "domainname",
    "entrypoint",
    "env",
    "env-file",
    "env-merge",
    "expose",
    "gidmap",
    "gpus",
    "group-add",
    "group-entry",
    "health-cmd",
    "health-interval",
    "health-retries",
    "health-start-period",
    "health-timeout",
    "hostname",
    "hostuser",
    "init-path",
    "ip",
    "ip6",
    "ipc",
    "isolation",
    "kernel-memory",
    "label",
    "label-file",
    "link",
    "link-local-ip",
    "log-driver",
    "log-opt",
    "mac-address",
    "memory",
    "memory-reservation",
    "memory-swap",
    "memory-swappiness",
    "mount",
    "name",
    "network",
    "network-alias",
    "oom-score-adj",
    "os",
    "passwd-entry",
    "personality",
    "pid",
    "pidfile",
    "pids-limit",
    "platform",
    "pod",
    "pod-id-file",
    "preserve-fd",
    "publish",
    "pull",
    "requires",
    "restart",
    "runtime",
    "sdnotify",
    "seccomp-policy",
    "secret",
    "security-opt",
    "shm-size",
    "shm-size-systemd",
    "stop-signal",
    "stop-timeout",
    "storage-opt",
    "subgidname",
    "subuidname",
    "sysctl",
    "systemd",
    "timeout",
    "tmpfs",
    "tz",
    "uidmap",
    "ulimit",
    "umask",
    "user",
    "userns",
    "uts",
    "variant",
    "volume",
    "volume-driver",
    "volumes-from",
    "workdir",
    "chrootdirs",
    "authfile",
    "cert-dir",
    "creds",
    "image-volume",
    "log-level",
    "retry",
    "retry-delay",
    "rdt-class",
    "unsetenv",
];

/// Long options of `run` that never take a value.
const LONG_FLAG: &[&str] = &[
    "detach",
    "disable-content-trust",
    "help",
    "init",
    "interactive",
    "no-healthcheck",
    "oom-kill-disable",
    "privileged",
    "publish-all",
    "quiet",
    "read-only",
    "rm",
    "rmi",
    "sig-proxy",
    "tty",
    "use-api-socket",
    "http-proxy",
    "no-hosts",
    "read-only-tmpfs",
    "replace",
    "env-host",
    "tls-verify",
    "unsetenv-all",
    "passwd",
];

/// Short options that take a value (`-e K=V`, `-eK=V`).
const SHORT_VALUE: &[u8] = b"eplvwuhmca";
/// Short options that never take a value (combinable: `-it`).
const SHORT_FLAG: &[u8] = b"idtPq";

/// Where the image is in a container launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerLaunch {
    /// `docker`, `podman` or `nerdctl`.
    pub runtime: String,
    /// Index of the image argument in `args`.
    pub image_index: usize,
}

/// Why the image cannot be found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LaunchError {
    #[error("`{runtime} run` has no image argument")]
    NoImage { runtime: String },
    #[error(
        "`{runtime} run`: cannot tell whether {option} takes a value, so the image argument is ambiguous; write it as {option}=VALUE"
    )]
    Ambiguous { runtime: String, option: String },
}

impl LaunchError {
    pub fn code(&self) -> &'static str {
        match self {
            LaunchError::NoImage { .. } => "container-no-image",
            LaunchError::Ambiguous { .. } => "container-args-ambiguous",
        }
    }
}

/// `Some` when `command args…` runs a container (`docker run …`, `podman container run …`):
/// where its image argument is. `None` for anything else.
pub fn container_launch(
    command: &str,
    args: &[String],
) -> Option<Result<ContainerLaunch, LaunchError>> {
    let name = std::path::Path::new(command).file_name()?.to_str()?;
    let runtime = RUNTIMES.iter().find(|r| **r == name)?;
    // Global options before the subcommand are not supported; `run` or `container run` must
    // come first (that is how MCP client configs write it).
    let mut i = match args.first().map(String::as_str) {
        Some("run") => 1,
        Some("container") if args.get(1).map(String::as_str) == Some("run") => 2,
        _ => return None,
    };
    let runtime = (*runtime).to_owned();
    while let Some(a) = args.get(i) {
        if a == "--" {
            return Some(match args.get(i + 1) {
                Some(_) => Ok(ContainerLaunch {
                    runtime,
                    image_index: i + 1,
                }),
                None => Err(LaunchError::NoImage { runtime }),
            });
        }
        if let Some(long) = a.strip_prefix("--") {
            if long.contains('=') {
                i += 1;
            } else if LONG_VALUE.contains(&long) {
                i += 2;
            } else if LONG_FLAG.contains(&long) {
                i += 1;
            } else {
                return Some(Err(LaunchError::Ambiguous {
                    runtime,
                    option: a.clone(),
                }));
            }
            continue;
        }
        if let Some(short) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-it`, `-e` `K=V`, `-eK=V`, `-e=K=V`: flags, then at most one value option last
            // (or with its value attached).
            let bytes = short.as_bytes();
            let mut step = 1;
            for (k, b) in bytes.iter().enumerate() {
                if SHORT_FLAG.contains(b) {
                    continue;
                }
                if SHORT_VALUE.contains(b) {
                    if k + 1 == bytes.len() {
                        step = 2;
                    }
                    break;
                }
                return Some(Err(LaunchError::Ambiguous {
                    runtime,
                    option: a.clone(),
                }));
            }
            i += step;
            continue;
        }
        return Some(Ok(ContainerLaunch {
            runtime,
            image_index: i,
        }));
    }
    Some(Err(LaunchError::NoImage { runtime }))
}

/// The image argument pinned to `digest`: `IMAGE[:TAG]@sha256:…` (docker and podman pull the
/// digest and ignore the tag), replacing any digest the argument had.
pub fn pinned_arg(arg: &str, digest: crate::digest::Digest) -> String {
    let base = arg.split_once('@').map_or(arg, |(b, _)| b);
    format!("{base}@{digest}")
}

/// A container launch that is not the pinned image.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ImageMismatch(pub String);

/// Checks a container launch against its pin: the same arguments as pinned except the image,
/// which must be the pinned argument or that argument at the pinned digest (as `wrap` writes
/// it). Returns the arguments to spawn, the image pinned by digest, so a tag moved after
/// pinning never reaches the runtime.
pub fn enforce(
    command: &str,
    pinned_args: &[String],
    args: &[String],
    digest: crate::digest::Digest,
) -> Result<Vec<String>, ImageMismatch> {
    let find = |a: &[String]| match container_launch(command, a) {
        Some(Ok(c)) => Ok(c.image_index),
        Some(Err(e)) => Err(ImageMismatch(e.to_string())),
        None => Err(ImageMismatch(format!(
            "`{command} {}` does not run a container, but the server is pinned as a container image",
            a.join(" ")
        ))),
    };
    let (pi, li) = (find(pinned_args)?, find(args)?);
    let same_rest = pi == li
        && pinned_args.len() == args.len()
        && pinned_args
            .iter()
            .zip(args)
            .enumerate()
            .all(|(k, (p, l))| k == pi || p == l);
    let (Some(pinned_image), Some(image), true) = (pinned_args.get(pi), args.get(li), same_rest)
    else {
        return Err(ImageMismatch(format!(
            "the container arguments differ from the pinned `{command} {}`",
            pinned_args.join(" ")
        )));
    };
    let at_digest = pinned_arg(pinned_image, digest);
    if image != pinned_image && *image != at_digest {
        return Err(ImageMismatch(format!(
            "the launch runs image {image}, but the server is pinned to {at_digest}"
        )));
    }
    let mut out = args.to_vec();
    if let Some(slot) = out.get_mut(li) {
        *slot = at_digest;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(cmd: &str, args: &[&str]) -> Option<Result<usize, &'static str>> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        container_launch(cmd, &args).map(|r| r.map(|c| c.image_index).map_err(|e| e.code()))
    }

    #[test]
    fn finds_the_image_argument() {
        assert_eq!(
            find("docker", &["run", "-i", "--rm", "mcp/fetch"]),
            Some(Ok(3))
        );
        assert_eq!(
            find(
                "/usr/bin/podman",
                &["run", "-it", "-e", "A=1", "--name", "x", "img:1", "--rm"]
            ),
            Some(Ok(6))
        );
        assert_eq!(
            find("docker", &["run", "-eA=1", "--env=B", "img"]),
            Some(Ok(3))
        );
        assert_eq!(
            find("docker", &["container", "run", "-v", "/a:/b", "img", "-e"]),
            Some(Ok(4))
        );
        assert_eq!(find("docker", &["run", "--rm", "--", "img"]), Some(Ok(3)));
        assert_eq!(find("docker", &["run", "-ie", "X", "img"]), Some(Ok(3)));
    }

    #[test]
    fn enforce_pins_the_digest_and_refuses_other_images() {
        let d = crate::digest::Digest::of(b"manifest");
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let pinned = v(&["run", "-i", "--rm", "mcp/fetch:1"]);
        let out = enforce("docker", &pinned, &pinned, d).unwrap();
        assert_eq!(out[3], format!("mcp/fetch:1@{d}"));
        // As `wrap` writes it.
        assert_eq!(enforce("docker", &pinned, &out, d).unwrap(), out);
        // Another tag, another digest, another image, extra arguments: refused.
        for bad in [
            v(&["run", "-i", "--rm", "mcp/fetch:2"]),
            v(&[
                "run",
                "-i",
                "--rm",
                &format!("mcp/fetch:1@{}", crate::digest::Digest::of(b"x")),
            ]),
            v(&["run", "-i", "--rm", "evil/fetch:1"]),
            v(&["run", "-i", "--rm", "-v", "/:/host", "mcp/fetch:1"]),
            v(&["run", "-i", "--privileged", "mcp/fetch:1"]),
        ] {
            assert!(enforce("docker", &pinned, &bad, d).is_err(), "{bad:?}");
        }
        assert!(enforce("node", &pinned, &pinned, d).is_err());
    }

    #[test]
    fn not_a_container_or_refused() {
        assert_eq!(find("node", &["run", "x"]), None);
        assert_eq!(find("docker", &["ps"]), None);
        assert_eq!(find("dockerx", &["run", "img"]), None);
        assert_eq!(
            find("docker", &["run", "-i"]),
            Some(Err("container-no-image"))
        );
        // An unknown option could take the next argument: which one is the image?
        assert_eq!(
            find("docker", &["run", "--frobnicate", "a", "b"]),
            Some(Err("container-args-ambiguous"))
        );
        assert_eq!(
            find("docker", &["run", "-Z", "a", "b"]),
            Some(Err("container-args-ambiguous"))
        );
        assert_eq!(find("docker", &["run", "--frobnicate=a", "b"]), Some(Ok(2)));
    }
}
