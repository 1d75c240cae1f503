//! The exact requests each chat preset makes, per event, as received by the local stand-ins
//! of tests/chat_support (the services themselves cannot be reached from here), and what
//! each does with a hostile check message.

mod chat_support;
mod support;

use std::time::Duration;

use chat_support::*;
use oncalld::config::{ChatKind, ChatNotifier as ChatConfig};
use oncalld::core::model::{Page, PageEvent};
use oncalld::notify::Notifier;
use oncalld::notify::chat::ChatNotifier;
use serde_json::{Value, json};
use support::page;

fn notifier(kind: ChatKind, url: String, secret: Option<&str>) -> ChatNotifier {
    ChatNotifier::new(&ChatConfig {
        kind,
        url,
        secret: secret.map(str::to_string),
        to: None,
        retry: Duration::from_secs(60),
        expire: Duration::from_secs(3600),
        timeout: Duration::from_secs(3),
    })
    .unwrap()
}

/// Sends one page; each event has its own seq, as in the engine.
fn send(n: &ChatNotifier, event: PageEvent, to: Option<&str>, summary: Option<&str>) {
    let seq = match event {
        PageEvent::Triggered | PageEvent::Test => 1,
        PageEvent::Escalated => 2,
        PageEvent::Acknowledged => 3,
        PageEvent::Resolved => 4,
        PageEvent::Flapping => 5,
    };
    let mut p: Page = page(event, 17, seq, "alice", "chat");
    p.to = to.map(str::to_string);
    if let Some(s) = summary {
        p.summary = s.to_string();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(n.send(&p)).unwrap();
}

const FACTS: &str = "Check: website\nIncident: #17 triggered\nStep: 1\n\
                     Since: 2026-11-25T21:00:00Z\nTo do: oncalld ack 17\nTimeline: oncalld show 17";

const HOSTILE: &str =
    "<b>x</b> *_~ @channel @everyone @room <!channel> </script> \"q\" &\nl2\x1b[2J";

#[test]
fn slack_posts_plain_text_coloured_by_event_and_escapes_its_markup() {
    let s = ChatServer::start();
    let n = notifier(ChatKind::Slack, s.url(SLACK_PATH), None);
    send(&n, PageEvent::Triggered, None, None);
    let r = s.last();
    assert_eq!((r.method.as_str(), r.uri.as_str()), ("POST", SLACK_PATH));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let headline = "TRIGGERED #17 website: HTTP 500 from https://example.com/health";
    assert_eq!(
        r.json(),
        json!({
            "text": headline,
            "mrkdwn": false,
            "attachments": [{
                "color": "#d62728",
                "fallback": headline,
                "text": FACTS,
                "mrkdwn_in": [],
            }],
        })
    );
    let colours = [
        (PageEvent::Escalated, "#8b0000"),
        (PageEvent::Acknowledged, "#ff9900"),
        (PageEvent::Resolved, "#2ca02c"),
        (PageEvent::Test, "#1f77b4"),
    ];
    for (event, colour) in colours {
        send(&n, event, None, None);
        assert_eq!(
            s.last().json()["attachments"][0]["color"],
            colour,
            "{event:?}"
        );
    }
    send(&n, PageEvent::Test, None, None);
    assert_eq!(
        s.last().json()["text"],
        "TEST page from oncalld: TEST #17 website: HTTP 500 from https://example.com/health"
    );
    send(&n, PageEvent::Triggered, None, Some(HOSTILE));
    assert_eq!(
        s.last().json()["text"],
        "TRIGGERED #17 website: &lt;b&gt;x&lt;/b&gt; *_~ @channel @everyone @room \
         &lt;!channel&gt; &lt;/script&gt; \"q\" &amp; l2\u{fffd}[2J"
    );
}

#[test]
fn discord_posts_an_embed_and_pings_nobody() {
    let s = ChatServer::start();
    let n = notifier(ChatKind::Discord, s.url(DISCORD_PATH), None);
    send(&n, PageEvent::Triggered, None, None);
    let r = s.last();
    assert_eq!(
        (r.method.as_str(), r.uri.as_str(), r.status),
        ("POST", DISCORD_PATH, 204)
    );
    assert_eq!(
        r.json(),
        json!({
            "content": "TRIGGERED \\#17 website: HTTP 500 from https://example.com/health",
            "allowed_mentions": {"parse": []},
            "embeds": [{
                "title": "TRIGGERED #17 website",
                "description": "**Check:** website\n**Incident:** \\#17 triggered\n**Step:** 1\n\
                    **Since:** 2026\\-11\\-25T21:00:00Z\n**To do:** oncalld ack 17\n\
                    **Timeline:** oncalld show 17",
                "color": 0xd62728,
                "timestamp": "2026-11-25T21:12:30Z",
            }],
        })
    );
    send(&n, PageEvent::Resolved, None, Some(HOSTILE));
    let v = s.last().json();
    assert_eq!(v["embeds"][0]["color"], 0x2ca02c);
    assert_eq!(
        v["content"],
        "RESOLVED \\#17 website: \\<b\\>x\\</b\\> \\*\\_\\~ @channel @everyone @room \
         \\<!channel\\> \\</script\\> \"q\" & l2\u{fffd}\\[2J"
    );
    assert_eq!(v["allowed_mentions"], json!({"parse": []}));
    send(&n, PageEvent::Triggered, None, Some(&"*".repeat(5000)));
    let v = s.last().json();
    let n = v["content"].as_str().unwrap().chars().count();
    assert!(
        (1998..=2000).contains(&n),
        "{n}: cut before an escape pair, never inside"
    );
    assert!(v["content"].as_str().unwrap().ends_with("\\*…"));
}

#[test]
fn teams_posts_an_adaptive_card_within_28_kb() {
    let s = ChatServer::start();
    let n = notifier(ChatKind::Teams, s.url(TEAMS_PATH), None);
    send(&n, PageEvent::Acknowledged, None, None);
    let r = s.last();
    assert_eq!(
        (r.method.as_str(), r.uri.as_str(), r.status),
        ("POST", TEAMS_PATH, 202)
    );
    let card = &r.json()["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(
        card["body"][0],
        json!({"type": "TextBlock", "text": "ACKNOWLEDGED \\#17 website", "weight": "bolder",
               "size": "medium", "color": "warning", "wrap": true})
    );
    assert_eq!(
        card["body"][1],
        json!({"type": "TextBlock", "text": "HTTP 500 from https://example.com/health", "wrap": true})
    );
    assert_eq!(
        card["body"][2]["facts"][4],
        json!({"title": "To do", "value": "oncalld resolve 17"})
    );
    for (event, colour) in [
        (PageEvent::Triggered, "attention"),
        (PageEvent::Resolved, "good"),
        (PageEvent::Test, "accent"),
    ] {
        send(&n, event, None, None);
        assert_eq!(
            s.last().json()["attachments"][0]["content"]["body"][0]["color"],
            colour
        );
    }
    send(&n, PageEvent::Triggered, None, Some(&"é<".repeat(20_000)));
    let r = s.last();
    assert!(
        r.body.len() <= 28 * 1024 && r.status == 202,
        "{} bytes",
        r.body.len()
    );
}

#[test]
fn telegram_sends_escaped_html_to_the_chat_and_only_pages_loudly_for_alarms() {
    let s = ChatServer::start();
    let n = notifier(ChatKind::Telegram, s.base(), Some(TELEGRAM_TOKEN));
    send(&n, PageEvent::Triggered, Some("-1001234567890"), None);
    let r = s.last();
    assert_eq!(r.uri, format!("/bot{TELEGRAM_TOKEN}/sendMessage"));
    assert_eq!(
        r.json(),
        json!({
            "chat_id": "-1001234567890",
            "text": format!("<b>TRIGGERED #17 website</b>\nHTTP 500 from https://example.com/health\n\n{FACTS}"),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
            "disable_notification": false,
        })
    );
    send(
        &n,
        PageEvent::Resolved,
        Some("-1001234567890"),
        Some(HOSTILE),
    );
    let v = s.last().json();
    assert_eq!(v["disable_notification"], true);
    assert!(v["text"].as_str().unwrap().contains(
        "&lt;b&gt;x&lt;/b&gt; *_~ @channel @everyone @room &lt;!channel&gt; &lt;/script&gt; &quot;q&quot; &amp; l2"
    ));
    // The stand-in parses Telegram's HTML and counts visible characters: within 4,096.
    send(
        &n,
        PageEvent::Triggered,
        Some("-1001234567890"),
        Some(&"<&>".repeat(3000)),
    );
    let text = s.last().json()["text"].as_str().unwrap().to_string();
    let visible = chat_support::contracts::telegram_html(&text).unwrap();
    assert!(visible <= 4096 && s.last().status == 200, "{visible}");
}

#[test]
fn ntfy_publishes_json_with_priority_and_tags_by_event() {
    let s = ChatServer::start();
    let n = notifier(
        ChatKind::Ntfy,
        s.url("/ntfy/oncall-alerts"),
        Some(NTFY_TOKEN),
    );
    send(&n, PageEvent::Triggered, None, None);
    let r = s.last();
    assert_eq!((r.method.as_str(), r.uri.as_str()), ("POST", "/ntfy/"));
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {NTFY_TOKEN}").as_str())
    );
    assert_eq!(
        r.json(),
        json!({
            "topic": "oncall-alerts",
            "title": "TRIGGERED #17 website",
            "message": format!("HTTP 500 from https://example.com/health\n\n{FACTS}"),
            "priority": 5,
            "tags": ["rotating_light"],
        })
    );
    let idioms = [
        (
            PageEvent::Escalated,
            5,
            json!(["rotating_light", "arrow_double_up"]),
        ),
        (PageEvent::Acknowledged, 3, json!(["eyes"])),
        (PageEvent::Resolved, 2, json!(["white_check_mark"])),
        (PageEvent::Test, 3, json!(["test_tube"])),
    ];
    for (event, priority, tags) in idioms {
        send(&n, event, None, None);
        let v = s.last().json();
        assert_eq!(
            (v["priority"].clone(), v["tags"].clone()),
            (json!(priority), tags)
        );
        assert!(v.get("actions").is_none(), "no public_url, no buttons");
    }
    send(&n, PageEvent::Triggered, None, Some(&"ü".repeat(5000)));
    let r = s.last();
    assert!(r.json()["message"].as_str().unwrap().len() <= 4096 && r.status == 200);
}

#[test]
fn ntfy_action_buttons_carry_the_links_when_there_are_links() {
    use oncalld::notify::chat::{Links, ntfy};
    let links = Links {
        ack: Some("https://oncall.example.com/a/ACK".into()),
        resolve: Some("https://oncall.example.com/a/RES".into()),
    };
    let p = page(PageEvent::Triggered, 17, 1, "alice", "chat");
    let v: Value = ntfy::body(&p, "t", &links);
    assert_eq!(v["actions"][0]["url"], "https://oncall.example.com/a/ACK");
    assert_eq!(v["actions"][0]["method"], "POST");
    assert_eq!(v["actions"][1]["label"], "Resolve");
}

#[test]
fn pushover_triggers_emergencies_and_cancels_them_by_tag_on_ack_and_resolve() {
    let s = ChatServer::start();
    let n = notifier(ChatKind::Pushover, s.base(), Some(PUSHOVER_TOKEN));
    send(&n, PageEvent::Triggered, Some(PUSHOVER_USER), None);
    let r = s.last();
    assert_eq!(
        (r.method.as_str(), r.uri.as_str()),
        ("POST", "/1/messages.json")
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let tag = "oncalld_17_1795640400";
    let expected: Vec<(String, String)> = [
        ("token", PUSHOVER_TOKEN),
        ("user", PUSHOVER_USER),
        ("title", "TRIGGERED #17 website"),
        (
            "message",
            &format!("HTTP 500 from https://example.com/health\n\n{FACTS}"),
        ),
        ("timestamp", "1795641150"),
        ("priority", "2"),
        ("retry", "60"),
        ("expire", "3600"),
        ("tags", tag),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(r.form(), expected);
    for event in [PageEvent::Acknowledged, PageEvent::Resolved] {
        let before = s.received().len();
        send(&n, event, Some(PUSHOVER_USER), None);
        let got = s.received()[before..].to_vec();
        assert_eq!(got.len(), 2, "{event:?}");
        assert_eq!(got[0].uri, format!("/1/receipts/cancel_by_tag/{tag}.json"));
        assert_eq!(
            got[0].form(),
            vec![("token".to_string(), PUSHOVER_TOKEN.to_string())]
        );
        assert_eq!(got[1].field("priority").as_deref(), Some("0"));
        assert_eq!(got[1].field("tags"), None);
    }
    send(&n, PageEvent::Test, Some(PUSHOVER_USER), None);
    assert_eq!(s.last().field("priority").as_deref(), Some("1"));
    send(
        &n,
        PageEvent::Triggered,
        Some(PUSHOVER_USER),
        Some(&"x".repeat(5000)),
    );
    let r = s.last();
    assert_eq!(r.field("message").unwrap().chars().count(), 1024);
    assert_eq!(r.status, 200);
}

#[test]
fn pushover_cancel_failure_is_retried_whole_and_the_cancel_is_harmless_twice() {
    let s = ChatServer::start();
    let n = notifier(ChatKind::Pushover, s.base(), Some(PUSHOVER_TOKEN));
    s.force(503, &[], "down");
    let mut p = page(PageEvent::Acknowledged, 17, 3, "alice", "chat");
    p.to = Some(PUSHOVER_USER.into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert!(rt.block_on(n.send(&p)).unwrap_err().is_retryable());
    assert_eq!(s.received().len(), 1, "the notice waits for the cancel");
    rt.block_on(n.send(&p)).unwrap();
    let uris: Vec<String> = s.received().iter().map(|r| r.uri.clone()).collect();
    assert_eq!(
        uris[1],
        "/1/receipts/cancel_by_tag/oncalld_17_1795640400.json"
    );
    assert_eq!(uris[2], "/1/messages.json");
}

#[test]
fn matrix_puts_with_a_txn_id_from_the_page_key_so_a_retry_is_one_event() {
    use oncalld::notify::chat::matrix;
    let s = ChatServer::start();
    let n = notifier(ChatKind::Matrix, s.base(), Some(MATRIX_TOKEN));
    send(&n, PageEvent::Triggered, Some(MATRIX_ROOM), None);
    let r = s.last();
    let p = page(PageEvent::Triggered, 17, 1, "alice", "chat");
    let txn = matrix::txn_id(&p);
    assert!(txn.starts_with("oncalld-") && txn.len() == 40, "{txn}");
    assert_eq!(r.method, "PUT");
    assert_eq!(
        r.uri,
        format!("/_matrix/client/v3/rooms/{MATRIX_ROOM}/send/m.room.message/{txn}")
    );
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {MATRIX_TOKEN}").as_str())
    );
    assert_eq!(
        r.json(),
        json!({
            "msgtype": "m.text",
            "body": format!("TRIGGERED #17 website: HTTP 500 from https://example.com/health\n{FACTS}"),
            "format": "org.matrix.custom.html",
            "formatted_body": format!(
                "<b>TRIGGERED #17 website</b><br>HTTP 500 from https://example.com/health<br>{}",
                FACTS.replace('\n', "<br>")
            ),
            "m.mentions": {},
        })
    );
    // The same page again (a retry): the same txn id, the homeserver keeps one event.
    send(&n, PageEvent::Triggered, Some(MATRIX_ROOM), None);
    assert_eq!(s.last().uri, r.uri);
    let first = String::from_utf8(r.body.clone()).unwrap();
    assert_eq!(first, String::from_utf8(s.last().body).unwrap());
    // Other events are other pages, other txn ids; quiet ones are notices.
    send(&n, PageEvent::Resolved, Some(MATRIX_ROOM), Some(HOSTILE));
    let last = s.last();
    assert_ne!(last.uri, r.uri);
    let v = last.json();
    assert_eq!(v["msgtype"], "m.notice");
    assert!(v["formatted_body"].as_str().unwrap().contains(
        "&lt;b&gt;x&lt;/b&gt; *_~ @channel @everyone @room &lt;!channel&gt; &lt;/script&gt; &quot;q&quot; &amp; l2"
    ));
    assert_eq!(v["m.mentions"], json!({}));
    let mut other_db = p.clone();
    other_db.opened_at = "2026-12-01T00:00:00Z".parse().unwrap();
    assert_ne!(
        matrix::txn_id(&other_db),
        txn,
        "incident ids restart with a new database"
    );
}

#[test]
fn ntfy_buttons_come_from_the_ack_links_hook() {
    use std::sync::Arc;

    use oncalld::notify::chat::Links;
    let s = ChatServer::start();
    let n = notifier(ChatKind::Ntfy, s.url("/oncall-alerts"), Some(NTFY_TOKEN)).with_ack_links(
        Arc::new(|p: &Page| Links {
            ack: Some(format!("https://oncall.example.com/a/ack-{}", p.incident)),
            resolve: Some(format!("https://oncall.example.com/a/res-{}", p.incident)),
        }),
    );
    send(&n, PageEvent::Triggered, None, None);
    let v = s.last().json();
    assert_eq!(
        v["actions"][0]["url"],
        "https://oncall.example.com/a/ack-17"
    );
    assert_eq!(
        v["actions"][1]["url"],
        "https://oncall.example.com/a/res-17"
    );
    assert_eq!(s.last().status, 200);
}
