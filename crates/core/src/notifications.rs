//! Notification destinations (`/api/2.0/notification-destinations`, webhooks) and the
//! webhook calls jobs make on run start, success and failure. A destination's address and
//! credentials are encrypted at rest with the secrets key and never shown again (`url_set`).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kiln_store::Store;
use serde_json::{Map, Value, json};

use crate::authz::Authz;
use crate::error::{Error, Result};
use crate::principal::Caller;
use crate::secrets::SecretsService;
use crate::shapes;

/// The settings key all destinations live under (few, and changed by admins only).
const SETTING: &str = "notification_destinations";
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct NotificationDestinations {
    store: Arc<dyn Store>,
    authz: Authz,
    secrets: Arc<SecretsService>,
    writes: Arc<tokio::sync::Mutex<()>>,
    http: reqwest::Client,
}

/// A webhook's address and optional basic-auth credentials.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Webhook {
    url: String,
    username: Option<String>,
    password: Option<String>,
}

fn missing(id: &str) -> Error {
    Error::not_found(format!("Notification destination {id} does not exist."))
}

impl NotificationDestinations {
    pub fn new(store: Arc<dyn Store>, authz: Authz, secrets: Arc<SecretsService>) -> NotificationDestinations {
        let http = reqwest::Client::builder().timeout(WEBHOOK_TIMEOUT).build().unwrap_or_default();
        NotificationDestinations { store, authz, secrets, writes: Arc::default(), http }
    }

    async fn all(&self) -> Result<Map<String, Value>> {
        let text = self.store.get_setting(SETTING).await?;
        Ok(text.and_then(|t| serde_json::from_str::<Value>(&t).ok()).and_then(|v| v.as_object().cloned()).unwrap_or_default())
    }

    async fn save(&self, all: &Map<String, Value>) -> Result<()> {
        self.store.put_setting(SETTING, Some(&Value::Object(all.clone()).to_string())).await?;
        Ok(())
    }

    /// A destination as the API shows it: never the address or credentials.
    fn render(id: &str, stored: &Value) -> Value {
        let flags = stored.get("set").cloned().unwrap_or_else(|| json!({}));
        json!({"id": id, "display_name": stored.get("display_name"), "destination_type": "WEBHOOK", "config": {"generic_webhook": flags}})
    }

    fn webhook_from(config: &Value) -> Result<Webhook> {
        let webhook = config.get("generic_webhook").filter(|v| !v.is_null()).ok_or_else(|| Error::invalid("config.generic_webhook is required; Kiln sends notifications to webhooks only"))?;
        let url = webhook.get("url").and_then(Value::as_str).unwrap_or_default();
        let parsed = url::Url::parse(url).map_err(|e| Error::invalid(format!("config.generic_webhook.url is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::invalid("config.generic_webhook.url must be http or https"));
        }
        let text = |key: &str| webhook.get(key).and_then(Value::as_str).map(str::to_string);
        Ok(Webhook { url: url.to_string(), username: text("username"), password: text("password") })
    }

    fn sealed(&self, id: &str, display_name: &str, webhook: &Webhook) -> Result<Value> {
        let plain = serde_json::to_vec(webhook).map_err(|e| Error::internal(e.to_string()))?;
        let (nonce, sealed) = self.secrets.seal_with(&format!("notification-destination\0{id}"), plain)?;
        let set = json!({"url_set": true, "username_set": webhook.username.is_some(), "password_set": webhook.password.is_some()});
        Ok(json!({"display_name": display_name, "nonce": BASE64.encode(nonce), "sealed": BASE64.encode(sealed), "set": set}))
    }

    fn webhook_of(&self, id: &str, stored: &Value) -> Result<Webhook> {
        let decode = |key: &str| BASE64.decode(stored.get(key).and_then(Value::as_str).unwrap_or("")).map_err(|_| Error::internal(format!("destination {id} is damaged")));
        let plain = self.secrets.open_with(&format!("notification-destination\0{id}"), &decode("nonce")?, &decode("sealed")?)?;
        serde_json::from_slice(&plain).map_err(|e| Error::internal(format!("destination {id} is damaged: {e}")))
    }

    /// Checks what a create or update sets against [`shapes::notifications::DESTINATION`].
    fn checked(display_name: Option<&str>, config: Option<&Value>) -> Result<()> {
        shapes::check(&json!({"display_name": display_name, "config": config}), &shapes::notifications::DESTINATION)
    }

    pub async fn create(&self, caller: &Caller, display_name: &str, config: &Value) -> Result<Value> {
        NotificationDestinations::checked(Some(display_name), Some(config))?;
        if display_name.trim().is_empty() {
            return Err(Error::invalid("display_name is required"));
        }
        let webhook = NotificationDestinations::webhook_from(config)?;
        self.authz.require_admin(caller, "notificationDestinations.create", display_name).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let _write = self.writes.lock().await;
        let mut all = self.all().await?;
        let stored = self.sealed(&id, display_name, &webhook)?;
        all.insert(id.clone(), stored.clone());
        self.save(&all).await?;
        Ok(NotificationDestinations::render(&id, &stored))
    }

    /// Every user may list and read destinations (to attach them to jobs).
    pub async fn list(&self) -> Result<Vec<Value>> {
        Ok(self.all().await?.iter().map(|(id, stored)| NotificationDestinations::render(id, stored)).collect())
    }

    pub async fn get(&self, id: &str) -> Result<Value> {
        let all = self.all().await?;
        all.get(id).map(|stored| NotificationDestinations::render(id, stored)).ok_or_else(|| missing(id))
    }

    pub async fn update(&self, caller: &Caller, id: &str, display_name: Option<&str>, config: Option<&Value>) -> Result<Value> {
        NotificationDestinations::checked(display_name, config)?;
        self.authz.require_admin(caller, "notificationDestinations.update", id).await?;
        let _write = self.writes.lock().await;
        let mut all = self.all().await?;
        let stored = all.get(id).cloned().ok_or_else(|| missing(id))?;
        let name = display_name.map(str::to_string).unwrap_or_else(|| stored.get("display_name").and_then(Value::as_str).unwrap_or_default().to_string());
        let webhook = match config {
            Some(config) => NotificationDestinations::webhook_from(config)?,
            None => self.webhook_of(id, &stored)?,
        };
        let updated = self.sealed(id, &name, &webhook)?;
        all.insert(id.to_string(), updated.clone());
        self.save(&all).await?;
        Ok(NotificationDestinations::render(id, &updated))
    }

    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<()> {
        self.authz.require_admin(caller, "notificationDestinations.delete", id).await?;
        let _write = self.writes.lock().await;
        let mut all = self.all().await?;
        all.remove(id).ok_or_else(|| missing(id))?;
        self.save(&all).await
    }

    /// Posts `payload` to each destination named in `ids` (`[{id}]`), in the background; a
    /// failed call is logged without the address.
    pub fn notify(&self, ids: &[Value], payload: Value) {
        let ids: Vec<String> = ids.iter().filter_map(|d| d.get("id").and_then(Value::as_str)).map(str::to_string).collect();
        if ids.is_empty() {
            return;
        }
        let destinations = self.clone();
        tokio::spawn(async move {
            let all = match destinations.all().await {
                Ok(all) => all,
                Err(error) => return tracing::warn!(%error, "reading notification destinations failed"),
            };
            for id in ids {
                let Some(stored) = all.get(&id) else {
                    tracing::warn!(destination = %id, "a job names a notification destination that does not exist");
                    continue;
                };
                let webhook = match destinations.webhook_of(&id, stored) {
                    Ok(webhook) => webhook,
                    Err(error) => {
                        tracing::warn!(destination = %id, %error, "a notification destination cannot be read");
                        continue;
                    }
                };
                let mut request = destinations.http.post(&webhook.url).json(&payload);
                if let Some(username) = &webhook.username {
                    request = request.basic_auth(username, webhook.password.as_deref());
                }
                match request.send().await {
                    Ok(response) if response.status().is_success() => {}
                    Ok(response) => tracing::warn!(destination = %id, status = %response.status(), "a webhook notification was refused"),
                    Err(error) => tracing::warn!(destination = %id, error = %error.without_url(), "a webhook notification failed"),
                }
            }
        });
    }
}
