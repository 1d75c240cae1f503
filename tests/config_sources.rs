//! `[sources.NAME] type = "alertmanager"` (SPEC §11 "In"): routes, default policy, errors with
//! file:line:col, and the token kept out of every error and `Debug`.

use std::collections::BTreeMap;
use std::path::Path;

use oncalld::config::{self, Config};

const TOKEN: &str = "s3cr3t-token-value-0123";

fn parse(text: &str) -> Result<Config, String> {
    config::parse(text, Path::new("/etc/oncalld/checks.toml")).map_err(|e| e.to_string())
}

fn with_policies(sources: &str) -> String {
    format!(
        r#"
[notifiers.log]
type = "console"
[policies.default]
[[policies.default.steps]]
notify = ["notifier:log"]
escalate_after = "15m"
[policies.db-oncall]
[[policies.db-oncall.steps]]
notify = ["notifier:log"]
escalate_after = "15m"
{sources}"#
    )
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn routes_first_match_wins_else_default() {
    let c = parse(&with_policies(&format!(
        r#"
[sources.prometheus]
type = "alertmanager"
token = "{TOKEN}"
policy = "default"
[[sources.prometheus.routes]]
match = {{ severity = "critical", team = "db" }}
policy = "db-oncall"
[[sources.prometheus.routes]]
match = {{ team = "db" }}
policy = "default"
"#
    )))
    .unwrap();
    let s = &c.sources["prometheus"];
    assert_eq!(s.token, TOKEN);
    assert_eq!(s.routes.len(), 2);
    let crit = labels(&[("severity", "critical"), ("team", "db"), ("x", "y")]);
    assert_eq!(s.policy_for(&crit), "db-oncall");
    assert_eq!(s.policy_for(&labels(&[("team", "db")])), "default");
    assert_eq!(
        s.policy_for(&labels(&[("severity", "critical")])),
        "default"
    );
    assert_eq!(s.policy_for(&BTreeMap::new()), "default");
    let shown = format!("{c:?}");
    assert!(!shown.contains(TOKEN), "Debug shows the token");
}

#[test]
fn errors_name_file_line_column_and_never_the_token() {
    let short = "tooshort";
    let cases = [
        (
            format!(
                "[sources.a]\ntype = \"alertmanager\"\ntoken = \"{TOKEN}\"\npolicy = \"nope\"\n"
            ),
            "sources.a.policy",
            "unknown policy \"nope\"",
        ),
        (
            format!(
                "[sources.a]\ntype = \"alertmanager\"\ntoken = \"{short}\"\npolicy = \"default\"\n"
            ),
            "sources.a.token",
            "at least 16",
        ),
        (
            format!("[sources.a]\ntype = \"kafka\"\ntoken = \"{TOKEN}\"\npolicy = \"default\"\n"),
            "sources.a.type",
            "unknown source type",
        ),
        (
            "[sources.a]\ntype = \"alertmanager\"\npolicy = \"default\"\n".to_string(),
            "sources.a.token",
            "missing required key",
        ),
        (
            format!(
                "[sources.a]\ntype = \"alertmanager\"\ntoken = \"{TOKEN}\"\npolicy = \"default\"\n\
                 [[sources.a.routes]]\nmatch = {{ team = 1 }}\npolicy = \"db-oncall\"\n"
            ),
            "sources.a.routes[0].match.team",
            "expected a string",
        ),
        (
            format!(
                "[sources.a]\ntype = \"alertmanager\"\ntoken = \"{TOKEN}\"\npolicy = \"default\"\n\
                 [[sources.a.routes]]\nmatch = {{ team = \"db\" }}\npolicy = \"gone\"\n"
            ),
            "sources.a.routes[0].policy",
            "unknown policy \"gone\"",
        ),
        (
            format!(
                "[sources.a]\ntype = \"alertmanager\"\ntoken = \"{TOKEN}\"\npolicy = \"default\"\nextra = 1\n"
            ),
            "sources.a",
            "extra",
        ),
    ];
    for (text, key, message) in cases {
        let e = parse(&with_policies(&text)).unwrap_err();
        assert!(e.contains("/etc/oncalld/checks.toml:"), "{e}");
        assert!(e.contains(key) && e.contains(message), "{key}: {e}");
        assert!(!e.contains(TOKEN) && !e.contains(short), "token shown: {e}");
    }
}
