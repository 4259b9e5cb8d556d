use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A config file in a fresh temporary directory, removed on drop.
struct TempConfig {
    dir: PathBuf,
    path: PathBuf,
}

impl TempConfig {
    fn new(text: &str) -> TempConfig {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!("kiln-cli-auth-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("databrickscfg");
        std::fs::write(&path, text).unwrap();
        TempConfig { dir, path }
    }
}

impl Drop for TempConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn token(value: &str) -> Credentials {
    Credentials::Token(Secret::new(value))
}

const PROFILES: &str = "\
; comment with a semicolon
# comment with a hash
[DEFAULT]
host = profile-default.cloud.databricks.com/
token = dapi-default

[prod]
  host=https://prod.cloud.databricks.com   # inline comment
client_id   =   sp-prod
client_secret = secret-prod

[broken]
host = https://broken.example.com
client_id = only-an-id
";

#[test]
fn flags_beat_environment_beat_profile() {
    let file = TempConfig::new(PROFILES);
    let vars = env(&[("DATABRICKS_HOST", "env.example.com"), ("DATABRICKS_TOKEN", "dapi-env")]);
    let flags = AuthFlags { host: Some("http://127.0.0.1:8080/".into()), token: Some(Secret::new("dapi-flag")), profile: None };
    let resolved = resolve(&flags, &vars, Some(&file.path)).unwrap();
    assert_eq!(resolved, ResolvedConfig { host: "http://127.0.0.1:8080".into(), credentials: token("dapi-flag") });

    let resolved = resolve(&AuthFlags::default(), &vars, Some(&file.path)).unwrap();
    assert_eq!(resolved, ResolvedConfig { host: "https://env.example.com".into(), credentials: token("dapi-env") });

    let resolved = resolve(&AuthFlags::default(), &HashMap::new(), Some(&file.path)).unwrap();
    assert_eq!(resolved, ResolvedConfig { host: "https://profile-default.cloud.databricks.com".into(), credentials: token("dapi-default") });
}

#[test]
fn attributes_merge_across_sources() {
    let file = TempConfig::new(PROFILES);
    // Host from the environment, token from the DEFAULT profile.
    let vars = env(&[("DATABRICKS_HOST", "https://env.example.com")]);
    let resolved = resolve(&AuthFlags::default(), &vars, Some(&file.path)).unwrap();
    assert_eq!(resolved, ResolvedConfig { host: "https://env.example.com".into(), credentials: token("dapi-default") });
}

#[test]
fn profile_from_flag_or_environment_and_file_from_environment() {
    let file = TempConfig::new(PROFILES);
    let expected = ResolvedConfig {
        host: "https://prod.cloud.databricks.com".into(),
        credentials: Credentials::ClientCredentials { client_id: "sp-prod".into(), client_secret: Secret::new("secret-prod") },
    };
    let flags = AuthFlags { profile: Some("prod".into()), ..Default::default() };
    assert_eq!(resolve(&flags, &HashMap::new(), Some(&file.path)).unwrap(), expected);

    let path = file.path.to_str().unwrap();
    let vars = env(&[("DATABRICKS_CONFIG_PROFILE", "prod"), ("DATABRICKS_CONFIG_FILE", path)]);
    assert_eq!(resolve(&AuthFlags::default(), &vars, None).unwrap(), expected);

    // --profile beats DATABRICKS_CONFIG_PROFILE.
    let flags = AuthFlags { profile: Some("DEFAULT".into()), ..Default::default() };
    assert_eq!(resolve(&flags, &vars, None).unwrap().credentials, token("dapi-default"));
}

#[test]
fn a_config_file_path_may_start_with_a_tilde() {
    let file = TempConfig::new(PROFILES);
    let vars = env(&[("HOME", file.dir.to_str().unwrap()), ("DATABRICKS_CONFIG_FILE", "~/databrickscfg")]);
    assert_eq!(resolve(&AuthFlags::default(), &vars, None).unwrap().credentials, token("dapi-default"));
    assert_eq!(default_config_file(&env(&[("HOME", "/home/me")])), Some(PathBuf::from("/home/me/.databrickscfg")));
    assert_eq!(default_config_file(&HashMap::new()), None);
}

#[test]
fn a_token_from_a_stronger_source_overrides_client_credentials() {
    let file = TempConfig::new(PROFILES);
    let flags = AuthFlags { token: Some(Secret::new("dapi-flag")), profile: Some("prod".into()), ..Default::default() };
    let resolved = resolve(&flags, &HashMap::new(), Some(&file.path)).unwrap();
    assert_eq!(resolved.credentials, token("dapi-flag"));

    let vars = env(&[("DATABRICKS_CLIENT_ID", "sp-env"), ("DATABRICKS_CLIENT_SECRET", "secret-env")]);
    let resolved = resolve(&AuthFlags::default(), &vars, Some(&file.path)).unwrap();
    assert_eq!(resolved.credentials, Credentials::ClientCredentials { client_id: "sp-env".into(), client_secret: Secret::new("secret-env") });

    let both = env(&[("DATABRICKS_HOST", "h.example.com"), ("DATABRICKS_TOKEN", "t"), ("DATABRICKS_CLIENT_ID", "i"), ("DATABRICKS_CLIENT_SECRET", "s")]);
    let error = resolve(&AuthFlags::default(), &both, None).unwrap_err();
    assert!(error.0.contains("more than one authentication method"), "{error}");
}

#[test]
fn missing_keys_are_named_with_profile_and_file() {
    let file = TempConfig::new(PROFILES);
    let flags = AuthFlags { profile: Some("broken".into()), ..Default::default() };
    let error = resolve(&flags, &HashMap::new(), Some(&file.path)).unwrap_err();
    let expected = format!(
        "client_id is set by profile [broken] in {0} but client_secret is missing: set DATABRICKS_CLIENT_SECRET or add `client_secret` to profile [broken] in {0}",
        file.path.display()
    );
    assert_eq!(error.0, expected);

    let no_host = TempConfig::new("[DEFAULT]\ntoken = dapi-x\n");
    let error = resolve(&AuthFlags::default(), &HashMap::new(), Some(&no_host.path)).unwrap_err();
    assert_eq!(
        error.0,
        format!("no workspace host configured: pass --host, set DATABRICKS_HOST, or add `host` to profile [DEFAULT] in {}", no_host.path.display())
    );

    let no_token = TempConfig::new("[DEFAULT]\nhost = a.example.com\n");
    let error = resolve(&AuthFlags::default(), &HashMap::new(), Some(&no_token.path)).unwrap_err();
    assert!(error.0.starts_with("no credentials for https://a.example.com: pass --token"), "{error}");
    assert!(error.0.ends_with(&format!("to profile [DEFAULT] in {}", no_token.path.display())), "{error}");
}

#[test]
fn a_named_profile_must_exist_but_default_may_not() {
    let file = TempConfig::new("[dev]\nhost = dev.example.com\ntoken = t\n");
    let flags = AuthFlags { profile: Some("staging".into()), ..Default::default() };
    let error = resolve(&flags, &HashMap::new(), Some(&file.path)).unwrap_err();
    assert_eq!(error.0, format!("profile [staging] not found in {} (profiles there: dev)", file.path.display()));

    // No [DEFAULT] section and no named profile: only flags and environment count.
    let vars = env(&[("DATABRICKS_HOST", "h.example.com"), ("DATABRICKS_TOKEN", "t")]);
    assert!(resolve(&AuthFlags::default(), &vars, Some(&file.path)).is_ok());

    let missing = file.dir.join("does-not-exist");
    assert!(resolve(&AuthFlags::default(), &vars, Some(&missing)).is_ok());
    let error = resolve(&flags, &vars, Some(&missing)).unwrap_err();
    assert_eq!(error.0, format!("profile [staging] was requested but config file {} does not exist", missing.display()));
}

#[test]
fn ini_parsing() {
    let sections = parse_ini(PROFILES).unwrap();
    assert_eq!(sections["prod"]["host"], "https://prod.cloud.databricks.com");
    assert_eq!(sections["prod"]["client_id"], "sp-prod");
    assert_eq!(sections["DEFAULT"]["host"], "profile-default.cloud.databricks.com/");
    assert_eq!(sections.len(), 3);

    let odd = parse_ini("[ a ]\nHOST: x.example.com\nkey=first\nkey = last\nurl = https://h/?a=b#frag\nempty =\n").unwrap();
    assert_eq!(odd["a"]["host"], "x.example.com");
    assert_eq!(odd["a"]["key"], "last");
    assert_eq!(odd["a"]["url"], "https://h/?a=b#frag");
    assert_eq!(odd["a"]["empty"], "");

    assert_eq!(parse_ini("host = x\n").unwrap_err(), "line 1: `host` appears before any [section] header");
    assert_eq!(parse_ini("[a\n").unwrap_err(), "line 1: section header without a closing ']'");
    assert_eq!(parse_ini("[a]\njust words\n").unwrap_err(), "line 2: expected `key = value`");
}

#[test]
fn an_invalid_file_is_reported_with_its_path() {
    let file = TempConfig::new("[DEFAULT]\nnot a pair\n");
    let error = resolve(&AuthFlags::default(), &HashMap::new(), Some(&file.path)).unwrap_err();
    assert_eq!(error.0, format!("invalid config file {}: line 2: expected `key = value`", file.path.display()));
}

#[test]
fn hosts_are_normalized() {
    assert_eq!(normalize_host("adb-123.azuredatabricks.net").unwrap(), "https://adb-123.azuredatabricks.net");
    assert_eq!(normalize_host("https://x.cloud.databricks.com//").unwrap(), "https://x.cloud.databricks.com");
    assert_eq!(normalize_host("http://127.0.0.1:8080/").unwrap(), "http://127.0.0.1:8080");
    assert!(normalize_host("ftp://x").is_err());
    assert!(normalize_host("https://").is_err());
    let vars = env(&[("DATABRICKS_HOST", "https://"), ("DATABRICKS_TOKEN", "t")]);
    let error = resolve(&AuthFlags::default(), &vars, None).unwrap_err();
    assert!(error.0.starts_with("invalid host 'https://' from environment variable DATABRICKS_HOST"), "{error}");
}
