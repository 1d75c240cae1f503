//! `oncalld who [POLICY] [--at TIME]` and `oncalld test-page TARGET`: who gets paged, and
//! whether their channels actually work.

use std::process::ExitCode;

use super::args::ClientArgs;
use super::output::{
    Cell, CmdResult, Table, client, colour_enabled, print_raw, safe, short_time, zone,
};
use crate::api::client::encode;
use crate::api::parse::parse_time_in;
use crate::api::types::{OncallView, TestPageBody, TestPageResult};

/// Each step of the policy (every policy without one) and whom it reaches now or at `--at`
/// (RFC 3339, or a civil time read in the client machine's zone).
pub async fn who(args: &ClientArgs, policy: Option<&str>, at: Option<&str>) -> CmdResult {
    let mut query = Vec::new();
    if let Some(p) = policy {
        query.push(format!("policy={}", encode(p)));
    }
    if let Some(t) = at {
        let ts = parse_time_in(t, &zone()).map_err(anyhow::Error::msg)?;
        query.push(format!("at={}", encode(&ts.to_string())));
    }
    let mut uri = "/v1/oncall".to_owned();
    if !query.is_empty() {
        uri = format!("{uri}?{}", query.join("&"));
    }
    let raw = client(args).get_bytes(&uri).await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let views: Vec<OncallView> = serde_json::from_slice(&raw)?;
    if views.is_empty() {
        println!("No escalation policies.");
    }
    let tz = zone();
    for (n, v) in views.iter().enumerate() {
        if n > 0 {
            println!();
        }
        println!("Policy {} at {}:", safe(&v.policy), short_time(v.at, &tz));
        let mut t = Table::new(&["STEP", "AFTER", "TARGET", "REACHES"]);
        for s in &v.steps {
            for (i, target) in s.targets.iter().enumerate() {
                let (step, after) = if i == 0 {
                    (s.step.to_string(), s.escalate_after.clone())
                } else {
                    (String::new(), String::new())
                };
                let reaches = if target.recipients.is_empty() {
                    "nobody (step skipped)".to_owned()
                } else {
                    target.recipients.join(", ")
                };
                t.row(vec![
                    step.into(),
                    after.into(),
                    target.target.as_str().into(),
                    reaches.into(),
                ]);
            }
        }
        print!("{}", t.render(colour_enabled()));
    }
    Ok(ExitCode::SUCCESS)
}

/// Send a test page; exit 0 only when every channel delivered it.
pub async fn test_page(args: &ClientArgs, target: String) -> CmdResult {
    let raw = client(args)
        .post_bytes("/v1/test-page", &TestPageBody { target })
        .await?;
    let result: TestPageResult = serde_json::from_slice(&raw)?;
    let code = if result.all_delivered() { 0 } else { 1 };
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::from(code));
    }
    if result.deliveries.is_empty() {
        println!(
            "{}: nothing to send (no contact methods).",
            safe(&result.target)
        );
        return Ok(ExitCode::from(code));
    }
    let mut t = Table::new(&["RECIPIENT", "NOTIFIER", "TO", "RESULT"]);
    for d in &result.deliveries {
        let outcome = match (&d.error, d.delivered) {
            (_, true) => "delivered".to_owned(),
            (Some(e), false) => format!("failed: {e}"),
            (None, false) => "failed".to_owned(),
        };
        t.row(vec![
            d.recipient.as_str().into(),
            d.notifier.as_str().into(),
            d.to.clone().unwrap_or_else(|| "-".into()).into(),
            Cell::state(outcome),
        ]);
    }
    print!("{}", t.render(colour_enabled()));
    Ok(ExitCode::from(code))
}
