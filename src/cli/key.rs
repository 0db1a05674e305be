//! `mcpseal key generate` and `mcpseal key id`, and the passphrase and private-key sources the
//! signing commands share (`MCPSEAL_PASSWORD`, `--password-file`, a terminal prompt;
//! `MCPSEAL_PRIVATE_KEY` for CI secrets).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_json::json;
use zeroize::Zeroizing;

use super::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::keys::{self, PrivateKey, PublicKey};

#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Generate a key pair: NAME.key (mode 0600, encrypted) and NAME.pub (SPKI PEM).
    ///
    /// By default an Ed25519 key in PKCS#8 (OpenSSL reads it). With --cosign, an ECDSA P-256
    /// key in the encrypted format `cosign generate-key-pair` writes (ENCRYPTED SIGSTORE
    /// PRIVATE KEY: scrypt + NaCl secretbox), for tools that read cosign keys.
    /// The passphrase comes from MCPSEAL_PASSWORD, --password-file, or a prompt (asked twice)
    /// on a terminal. Existing files are never overwritten without --force.
    Generate {
        /// Folder to write the key files into.
        #[arg(long, default_value = ".", value_name = "DIR")]
        out_dir: PathBuf,
        /// Base name of the key files.
        #[arg(long, default_value = "mcpseal", value_name = "NAME")]
        name: String,
        /// Write the private key unencrypted (for throwaway keys; prefer a CI secret store).
        #[arg(long, conflicts_with = "password_file")]
        no_password: bool,
        /// Read the passphrase from the first line of this file.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// Replace existing key files.
        #[arg(long)]
        force: bool,
        /// Make an ECDSA P-256 key in cosign's encrypted format instead of Ed25519 PKCS#8.
        #[arg(long, conflicts_with = "no_password")]
        cosign: bool,
    },
    /// Print the key id of a public key (base64 SHA-256 of its DER SubjectPublicKeyInfo).
    Id {
        /// Public key file (SPKI PEM).
        #[arg(value_name = "PUB")]
        public_key: PathBuf,
    },
}

/// Largest key file read.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The passphrase from `MCPSEAL_PASSWORD`, `--password-file`, or a terminal prompt.
pub(crate) fn passphrase(
    file: Option<&Path>,
    confirm: bool,
) -> Result<Zeroizing<String>, CliError> {
    if let Some(p) = file {
        let bytes = Zeroizing::new(read_input(p, MAX_KEY_FILE, "a password")?);
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            CliError::error(
                "password-not-utf8",
                format!("{}: the password file is not UTF-8", p.display()),
            )
        })?;
        let line = text.lines().next().unwrap_or_default();
        if line.is_empty() {
            return Err(CliError::error(
                "empty-password",
                format!("{}: the password file's first line is empty", p.display()),
            ));
        }
        return Ok(Zeroizing::new(line.to_owned()));
    }
    if let Ok(v) = std::env::var("MCPSEAL_PASSWORD") {
        if v.is_empty() {
            return Err(CliError::error(
                "empty-password",
                "MCPSEAL_PASSWORD is set but empty",
            ));
        }
        return Ok(Zeroizing::new(v));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::error(
            "no-password-source",
            "a passphrase is needed and there is no terminal to ask on",
        )
        .help(
            "set MCPSEAL_PASSWORD, pass --password-file FILE, or (key generate only) --no-password",
        ));
    }
    let first = Zeroizing::new(
        rpassword::prompt_password("Passphrase: ")
            .map_err(|e| CliError::error("io-error", format!("reading the passphrase: {e}")))?,
    );
    if first.is_empty() {
        return Err(CliError::error("empty-password", "the passphrase is empty"));
    }
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Passphrase (again): ")
                .map_err(|e| CliError::error("io-error", format!("reading the passphrase: {e}")))?,
        );
        if *again != *first {
            return Err(CliError::error(
                "password-mismatch",
                "the two passphrases differ",
            ));
        }
    }
    Ok(first)
}

/// The signing key's flags, the same for every command that signs (`sign`, `lock push`):
/// `--key FILE` (or `MCPSEAL_PRIVATE_KEY`) and `--password-file FILE` (or `MCPSEAL_PASSWORD`,
/// or a prompt).
#[derive(Debug, clap::Args)]
pub struct SigningKeyArgs {
    /// The private signing key: PKCS#8 PEM (as `mcpseal key generate` writes; Ed25519, ECDSA
    /// or RSA) or a cosign key (ENCRYPTED SIGSTORE PRIVATE KEY) [default: the PEM text in
    /// MCPSEAL_PRIVATE_KEY].
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// Read the key's passphrase from this file [default: MCPSEAL_PASSWORD, or a prompt].
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

impl SigningKeyArgs {
    /// The key these flags name, opened (see [`load_secret_key`]).
    pub(crate) fn load(&self) -> Result<PrivateKey, CliError> {
        load_secret_key(self.key.as_deref(), self.password_file.as_deref())
    }
}

/// Loads the signing key from `--key FILE` or `MCPSEAL_PRIVATE_KEY`, asking for a passphrase
/// only when the key is encrypted. Any key [`PrivateKey`] reads: mcpseal's Ed25519 keys,
/// PKCS#8 ECDSA / RSA keys, cosign-format encrypted keys.
pub(crate) fn load_secret_key(
    key: Option<&Path>,
    password_file: Option<&Path>,
) -> Result<PrivateKey, CliError> {
    let (pem, origin) = match key {
        Some(p) => (
            Zeroizing::new(read_input(p, MAX_KEY_FILE, "a private key")?),
            p.display().to_string(),
        ),
        None => {
            match std::env::var("MCPSEAL_PRIVATE_KEY") {
                Ok(v) if !v.trim().is_empty() => (
                    Zeroizing::new(v.into_bytes()),
                    "MCPSEAL_PRIVATE_KEY".to_owned(),
                ),
                _ => {
                    return Err(CliError::error("no-key", "no signing key: pass --key FILE or set MCPSEAL_PRIVATE_KEY to the PEM text")
                    .help("mcpseal key generate --name release"));
                }
            }
        }
    };
    let key_err = |e: keys::KeyError| {
        let help = if e.code() == "key-wrong-passphrase" {
            "check MCPSEAL_PASSWORD or --password-file: it must be the passphrase the key was generated with"
        } else {
            "signing keys are PKCS#8 PEM (as `mcpseal key generate` writes) or cosign keys (ENCRYPTED SIGSTORE PRIVATE KEY); see docs/formats.md"
        };
        CliError::error(e.code(), format!("{origin}: {e}")).help(help)
    };
    match PrivateKey::from_pem(&pem, None) {
        Err(keys::KeyError::PassphraseNeeded) => {
            // cosign lets a key be made with an empty passphrase (COSIGN_PASSWORD=""); such a
            // key opens without asking, as with cosign. Any other key needs its passphrase.
            if keys::cosign::is_cosign_pem(&pem)
                && let Ok(k) = PrivateKey::from_pem(&pem, Some(b""))
            {
                return Ok(k);
            }
            let pass = passphrase(password_file, false)?;
            PrivateKey::from_pem(&pem, Some(pass.as_bytes())).map_err(key_err)
        }
        other => other.map_err(key_err),
    }
}

/// Loads an SPKI public key: PEM (`PUBLIC KEY`), or DER when the file is not PEM.
pub(crate) fn load_public_key(path: &Path) -> Result<PublicKey, CliError> {
    let bytes = read_input(path, MAX_KEY_FILE, "a public key")?;
    let parsed = if bytes.first() == Some(&0x30) {
        PublicKey::from_spki_der(&bytes)
    } else {
        PublicKey::from_spki_pem(&bytes)
    };
    parsed.map_err(|e| {
        CliError::error(e.code(), format!("{}: {e}", path.display())).help(
            "public keys are SPKI PEM (`-----BEGIN PUBLIC KEY-----`) or DER: Ed25519, ECDSA P-256/P-384/P-521, or RSA of 2048 bits or more",
        )
    })
}

/// Writes `contents` to `path` with `mode` via a temp file in the same folder; refuses to
/// replace an existing file unless `force`.
fn write_key_file(path: &Path, contents: &[u8], mode: u32, force: bool) -> Result<(), CliError> {
    let io = |e: std::io::Error| {
        CliError::error("io-error", format!("{}: cannot write: {e}", path.display()))
    };
    let persisted = crate::atomic::write_atomic(
        path,
        contents,
        crate::atomic::Options {
            mode,
            no_clobber: !force,
            prefix: ".mcpseal-key-",
        },
    );
    persisted.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::error(
                "key-exists",
                format!(
                    "{}: already exists; refusing to overwrite a key",
                    path.display()
                ),
            )
            .help("choose another --name or --out-dir, or pass --force to replace it")
        } else {
            io(e)
        }
    })
}

pub fn run(cmd: KeyCommand, g: &Global) -> CmdResult {
    match cmd {
        KeyCommand::Generate {
            out_dir,
            name,
            no_password,
            password_file,
            force,
            cosign,
        } => {
            if name.is_empty() || name.contains('/') || name.contains('\\') || name.starts_with('.')
            {
                return Err(CliError::error(
                    "bad-key-name",
                    format!("--name {name:?}: use a plain file name, without folders"),
                ));
            }
            if !out_dir.is_dir() {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&out_dir)
                    .map_err(|e| {
                        CliError::error(
                            "io-error",
                            format!("{}: cannot create the folder: {e}", out_dir.display()),
                        )
                    })?;
            }
            let secret_path = out_dir.join(format!("{name}.key"));
            let public_path = out_dir.join(format!("{name}.pub"));
            if !force {
                for p in [&secret_path, &public_path] {
                    if p.exists() {
                        return Err(CliError::error(
                            "key-exists",
                            format!(
                                "{}: already exists; refusing to overwrite a key",
                                p.display()
                            ),
                        )
                        .help(
                            "choose another --name or --out-dir, or pass --force to replace it",
                        ));
                    }
                }
            }
            let pass = if no_password {
                None
            } else {
                Some(passphrase(password_file.as_deref(), true)?)
            };
            let key_err = |e: keys::KeyError| CliError::error(e.code(), e.to_string());
            let (pem, public) = match (cosign, &pass) {
                (true, Some(p)) => {
                    let key = PrivateKey::generate_p256().map_err(key_err)?;
                    let pem = keys::cosign::to_pem(&key, p.as_bytes()).map_err(key_err)?;
                    (pem, keys::Signer::public_key(&key))
                }
                _ => {
                    let key = keys::generate().map_err(key_err)?;
                    let pem = key
                        .to_pem(pass.as_ref().map(|p| p.as_bytes()))
                        .map_err(key_err)?;
                    (pem, key.public())
                }
            };
            write_key_file(&secret_path, pem.as_bytes(), 0o600, force)?;
            write_key_file(&public_path, public.to_pem().as_bytes(), 0o644, force)?;
            let id = public.key_id();
            if g.json {
                emit_json(&json!({
                    "ok": true, "keyId": id, "privateKey": secret_path.display().to_string(),
                    "publicKey": public_path.display().to_string(), "encrypted": !no_password,
                    "keyType": public.kind().to_string(),
                    "format": if cosign { "cosign" } else { "pkcs8" },
                }));
            } else {
                emit(&format!(
                    "private key: {} ({}, mode 0600{})",
                    secret_path.display(),
                    if cosign {
                        "ECDSA P-256, cosign format"
                    } else {
                        "Ed25519, PKCS#8"
                    },
                    if no_password {
                        ", NOT encrypted"
                    } else {
                        ", encrypted"
                    }
                ));
                emit(&format!("public key:  {}", public_path.display()));
                emit(&format!("key id:      {id}"));
            }
            Ok(Exit::Ok)
        }
        KeyCommand::Id { public_key } => {
            let k = load_public_key(&public_key)?;
            if g.json {
                emit_json(
                    &json!({"ok": true, "keyId": k.key_id(), "publicKey": public_key.display().to_string()}),
                );
            } else {
                emit(&k.key_id());
            }
            Ok(Exit::Ok)
        }
    }
}
