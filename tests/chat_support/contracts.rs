//! Each service's documented contract, as its stand-in checks it. A request that breaks it
//! gets the answer the service documents for that case.
//!
//! - Slack (api.slack.com/messaging/webhooks, "Handling errors"): `POST`, JSON, `text` at
//!   most 40,000 characters; `200 ok`, `400 invalid_payload`, `403 invalid_token`,
//!   `404 no_service`.
//! - Discord ("Execute Webhook"): `POST`, JSON; `content` ≤ 2,000 characters, at most 10
//!   embeds, title ≤ 256, description ≤ 4,096, all embed text ≤ 6,000; `204`; `400
//!   {"code":50035}`, `401 {"code":50027}` bad token, `404 {"code":10015}` unknown webhook.
//! - Teams Workflows: `POST` with the `sig` parameter, JSON `type: "message"` with an
//!   Adaptive Card attachment, at most 28 KB; `202`; `400` bad card, `401` bad signature.
//! - Telegram (core.telegram.org/bots/api): `POST /bot<token>/sendMessage`, JSON with
//!   `chat_id` and `text` (1..4,096 characters after entity parsing), `parse_mode: HTML`
//!   accepts only its tags and `&lt; &gt; &amp; &quot;` entities; `401 Unauthorized`,
//!   `400 Bad Request: can't parse entities`, `400 chat not found`.
//! - ntfy (docs.ntfy.sh/publish): JSON `POST /` with `topic`, `message` ≤ 4,096 bytes,
//!   `priority` 1..5, `tags` strings, `actions` at most 3; `Authorization: Bearer` checked
//!   (`401 {"code":40101}`); `200` with the message as JSON.
//! - Pushover (pushover.net/api): form `POST /1/messages.json` with `token`, `user` (30
//!   characters), `message` 1..1,024, `title` ≤ 250, `priority` -2..2, for 2 `retry` ≥ 30
//!   and `expire` ≤ 10,800 (answer carries a `receipt`); `POST
//!   /1/receipts/cancel_by_tag/<tag>.json` with `token`; `400 {"status":0,"errors":[...]}`.
//! - Matrix (spec.matrix.org v1.11): `PUT /_matrix/client/v3/rooms/<room>/send/
//!   m.room.message/<txn>`, `Authorization: Bearer`, JSON with `msgtype` and `body`, event
//!   ≤ 65,536 bytes; the same txn id answers the same `event_id`; `401 M_UNKNOWN_TOKEN`,
//!   `403 M_FORBIDDEN` outside a joined room.

use axum::http::{HeaderMap, Method, Uri};
use serde_json::{Value, json};

use super::*;

pub fn answer(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (u16, String) {
    let path = uri.path();
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or(path);
    let json_body = serde_json::from_slice::<Value>(body).ok();
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if path.starts_with("/services/") {
        return slack(method, path, is_json, json_body);
    }
    if path.starts_with("/api/webhooks/") {
        return discord(method, path, is_json, json_body);
    }
    if path.starts_with("/workflows/") {
        return teams(method, pq, body.len(), json_body);
    }
    if path.starts_with("/bot") {
        return telegram(method, path, is_json, json_body);
    }
    if path.starts_with("/1/") {
        return pushover(method, path, body);
    }
    if path.starts_with("/_matrix/") {
        return matrix(shared, method, path, headers, body.len(), json_body);
    }
    if path.starts_with("/hook") {
        // A generic receiver for the webhook's body templates: takes anything.
        return (200, "ok".into());
    }
    if path == "/" || path == "/ntfy/" {
        return ntfy(method, headers, body.len(), json_body);
    }
    (404, "not found".into())
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn slack(m: &Method, path: &str, is_json: bool, v: Option<Value>) -> (u16, String) {
    if path != SLACK_PATH {
        return (404, "no_service".into());
    }
    let ok = *m == Method::POST
        && is_json
        && v.as_ref().is_some_and(|v| {
            let t = chars(&v["text"]);
            v["text"].is_string() && t > 0 && t <= 40_000
        });
    if ok {
        (200, "ok".into())
    } else {
        (400, "invalid_payload".into())
    }
}

fn discord(m: &Method, path: &str, is_json: bool, v: Option<Value>) -> (u16, String) {
    if !path.starts_with("/api/webhooks/1234567890/") {
        return (
            404,
            json!({"message": "Unknown Webhook", "code": 10015}).to_string(),
        );
    }
    if path != DISCORD_PATH {
        return (
            401,
            json!({"message": "Invalid Webhook Token", "code": 50027}).to_string(),
        );
    }
    let bad = || {
        (
            400,
            json!({"message": "Invalid Form Body", "code": 50035}).to_string(),
        )
    };
    let Some(v) = v.filter(|_| *m == Method::POST && is_json) else {
        return bad();
    };
    let embeds = v["embeds"].as_array().cloned().unwrap_or_default();
    let embed_text: usize = embeds
        .iter()
        .map(|e| chars(&e["title"]) + chars(&e["description"]))
        .sum();
    let ok = chars(&v["content"]) <= 2000
        && (chars(&v["content"]) > 0 || !embeds.is_empty())
        && embeds.len() <= 10
        && embeds
            .iter()
            .all(|e| chars(&e["title"]) <= 256 && chars(&e["description"]) <= 4096)
        && embed_text <= 6000;
    if ok { (204, String::new()) } else { bad() }
}

fn teams(m: &Method, pq: &str, len: usize, v: Option<Value>) -> (u16, String) {
    if !pq.starts_with("/workflows/abc123/") {
        return (404, "flow not found".into());
    }
    if !pq.ends_with("sig=TEAMSs3cr3tSIG") {
        return (
            401,
            json!({"error": {"code": "DirectApiAuthorizationRequired",
            "message": "The request must be authenticated"}})
            .to_string(),
        );
    }
    let card_ok = v.as_ref().is_some_and(|v| {
        let a = &v["attachments"][0];
        v["type"] == "message"
            && a["contentType"] == "application/vnd.microsoft.card.adaptive"
            && a["content"]["type"] == "AdaptiveCard"
            && a["content"]["body"].is_array()
    });
    if *m != Method::POST || !card_ok {
        return (
            400,
            json!({"error": {"code": "InvalidRequestContent"}}).to_string(),
        );
    }
    if len > 28 * 1024 {
        return (413, "RequestEntityTooLarge".into());
    }
    (202, String::new())
}

/// Telegram's HTML mode: only known tags, entities well formed; the visible length.
pub fn telegram_html(text: &str) -> Result<usize, String> {
    let mut visible = 0;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let end = rest
                .find('>')
                .ok_or("can't parse entities: unclosed start tag")?;
            let tag = rest[1..end].trim_start_matches('/');
            if !["b", "i", "u", "s", "code", "pre", "blockquote"].contains(&tag) {
                return Err(format!(
                    "can't parse entities: unsupported start tag \"{tag}\""
                ));
            }
            rest = &rest[end + 1..];
        } else if c == '&' {
            let end = rest.find(';').ok_or("can't parse entities: bad entity")?;
            if !["&lt", "&gt", "&amp", "&quot", "&#39"].contains(&&rest[..end]) {
                return Err("can't parse entities: unsupported entity".into());
            }
            visible += 1;
            rest = &rest[end + 1..];
        } else {
            visible += 1;
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(visible)
}

fn telegram(m: &Method, path: &str, is_json: bool, v: Option<Value>) -> (u16, String) {
    let fail = |code: u16, d: &str| {
        (
            code,
            json!({"ok": false, "error_code": code, "description": d}).to_string(),
        )
    };
    if path != format!("/bot{TELEGRAM_TOKEN}/sendMessage") {
        return fail(401, "Unauthorized");
    }
    let Some(v) = v.filter(|_| *m == Method::POST && is_json) else {
        return fail(400, "Bad Request: message text is empty");
    };
    let chat = v["chat_id"]
        .as_str()
        .map(str::to_string)
        .or(v["chat_id"].as_i64().map(|i| i.to_string()));
    if chat.as_deref() != Some("-1001234567890") {
        return fail(400, "Bad Request: chat not found");
    }
    let text = v["text"].as_str().unwrap_or("");
    let visible = if v["parse_mode"] == "HTML" {
        match telegram_html(text) {
            Ok(n) => n,
            Err(e) => return fail(400, &format!("Bad Request: {e}")),
        }
    } else {
        text.chars().count()
    };
    if visible == 0 {
        return fail(400, "Bad Request: message text is empty");
    }
    if visible > 4096 {
        return fail(400, "Bad Request: message is too long");
    }
    (
        200,
        json!({"ok": true, "result": {"message_id": 1, "text": text}}).to_string(),
    )
}

fn ntfy(m: &Method, headers: &HeaderMap, len: usize, v: Option<Value>) -> (u16, String) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {NTFY_TOKEN}")) {
        return (
            401,
            json!({"code": 40101, "http": 401, "error": "unauthorized"}).to_string(),
        );
    }
    let bad = || {
        (
            400,
            json!({"code": 40024, "http": 400, "error": "invalid request: body must be JSON"})
                .to_string(),
        )
    };
    let Some(v) = v.filter(|_| *m == Method::POST) else {
        return bad();
    };
    let p = v["priority"].as_u64().unwrap_or(3);
    let ok = v["topic"]
        .as_str()
        .is_some_and(|t| !t.is_empty() && t.len() <= 64)
        && v["message"].as_str().is_some_and(|s| s.len() <= 4096)
        && (1..=5).contains(&p)
        && v["tags"]
            .as_array()
            .is_none_or(|t| t.iter().all(Value::is_string))
        && v["actions"].as_array().is_none_or(|a| a.len() <= 3);
    if !ok || len > 1024 * 1024 {
        return bad();
    }
    (
        200,
        json!({"id": "xE73Iyuabi", "event": "message", "topic": v["topic"],
        "message": v["message"]})
        .to_string(),
    )
}

fn pushover(m: &Method, path: &str, body: &[u8]) -> (u16, String) {
    let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let fail = |errors: Vec<&str>| {
        (
            400,
            json!({"status": 0, "errors": errors, "request": "5042853c-402d"}).to_string(),
        )
    };
    if *m != Method::POST {
        return (405, "method not allowed".into());
    }
    if get("token").as_deref() != Some(PUSHOVER_TOKEN) {
        return fail(vec!["application token is invalid"]);
    }
    if let Some(tag) = path.strip_prefix("/1/receipts/cancel_by_tag/") {
        if !tag.ends_with(".json") {
            return (404, "not found".into());
        }
        return (
            200,
            json!({"status": 1, "canceled": 1, "request": "r2"}).to_string(),
        );
    }
    if path != "/1/messages.json" {
        return (404, "not found".into());
    }
    if get("user").as_deref() != Some(PUSHOVER_USER) {
        return fail(vec![
            "user identifier is not a valid user, group, or subscribed user key",
        ]);
    }
    let message = get("message").unwrap_or_default();
    let n = message.chars().count();
    if n == 0 || n > 1024 {
        return fail(vec![
            "message cannot be blank or longer than 1024 characters",
        ]);
    }
    if get("title").is_some_and(|t| t.chars().count() > 250) {
        return fail(vec!["title is too long"]);
    }
    let priority: i64 = get("priority").and_then(|p| p.parse().ok()).unwrap_or(0);
    if !(-2..=2).contains(&priority) {
        return fail(vec!["priority is invalid"]);
    }
    if priority == 2 {
        let retry: u64 = get("retry").and_then(|r| r.parse().ok()).unwrap_or(0);
        let expire: u64 = get("expire").and_then(|r| r.parse().ok()).unwrap_or(0);
        if retry < 30 || expire == 0 || expire > 10_800 {
            return fail(vec!["retry and expire are required for emergency priority"]);
        }
        return (
            200,
            json!({"status": 1, "request": "r1", "receipt": "rLqVuqTRh62UzxtmqiaLzQmVcPgiCy"})
                .to_string(),
        );
    }
    (200, json!({"status": 1, "request": "r1"}).to_string())
}

fn matrix(
    shared: &Shared,
    m: &Method,
    path: &str,
    headers: &HeaderMap,
    len: usize,
    v: Option<Value>,
) -> (u16, String) {
    let err = |code: u16, errcode: &str, error: &str| {
        (
            code,
            json!({"errcode": errcode, "error": error}).to_string(),
        )
    };
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    match auth {
        None => return err(401, "M_MISSING_TOKEN", "Missing access token"),
        Some(a) if a != format!("Bearer {MATRIX_TOKEN}") => {
            return err(401, "M_UNKNOWN_TOKEN", "Unrecognised access token");
        }
        _ => {}
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let [
        _,
        "client",
        "v3",
        "rooms",
        room,
        "send",
        "m.room.message",
        txn,
    ] = parts[..]
    else {
        return err(404, "M_UNRECOGNIZED", "Unrecognized request");
    };
    if *m != Method::PUT {
        return err(405, "M_UNRECOGNIZED", "Unrecognized request");
    }
    let room = percent_decode(room);
    if room != MATRIX_ROOM {
        return err(403, "M_FORBIDDEN", "User is not in room");
    }
    if len > 65_536 {
        return err(413, "M_TOO_LARGE", "event too large");
    }
    let ok = v.is_some_and(|v| v["msgtype"].is_string() && v["body"].is_string());
    if !ok {
        return err(400, "M_BAD_JSON", "body and msgtype required");
    }
    let mut txns = shared.txns.lock().unwrap();
    let event = match txns.iter().find(|(t, _)| t == txn) {
        Some((_, e)) => e.clone(),
        None => {
            let e = format!("$event{}", txns.len() + 1);
            txns.push((txn.to_string(), e.clone()));
            e
        }
    };
    (200, json!({"event_id": event}).to_string())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
