//! A session: the API client and picture fetcher that every command uses, pointed either at
//! the real API or at the in-process stand-in with the demo catalogue.
//!
//! With the demo, the client and the fetcher run exactly the code of real use; only their
//! base URLs point at 127.0.0.1, and the URLs that the user sees and copies stay the
//! catalogue's real-looking alicdn ones.
//!
//! A session may carry the local store ([`Session::open_store`]); [`Session::item_desc`] then
//! answers an offer the store holds without an API call, and keeps every new answer.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use url::Url;

use crate::item_id::ItemId;
use crate::media::{FetchConfig, Fetcher};
use crate::mock::{self, Catalogue, MockHandle, MockOptions};
use crate::store::{self, Answer, AnswerError, Location, Policy, Store, StoreError};
use crate::tmapi::{self, AuthMode, Client, ClientConfig, Token};

/// Where the session's answers come from.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    /// Use the embedded demo catalogue through the in-process stand-in.
    pub demo: bool,
    /// The API base (`--api-base`, `TMAPI_BASE`); the documented one when `None`.
    pub api_base: Option<String>,
    /// The API token (`TMAPI_TOKEN`); ignored with the demo.
    pub token: Option<String>,
    /// Where the token goes in a request.
    pub auth: AuthMode,
    /// The limit for one API call, retries included (`--api-timeout`); the API's 60 s when
    /// `None`.
    pub api_timeout: Option<Duration>,
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The API base is not an http(s) URL.
    #[error("the API base {0:?} is not an http or https URL: give one like https://api.tmapi.io")]
    BadBase(String),
    /// The demo's stand-in could not listen on loopback.
    #[error("could not start the demo's local stand-in on 127.0.0.1: {0}")]
    Demo(std::io::Error),
    /// The HTTP client could not be built.
    #[error("could not set up HTTP: {0}")]
    Http(String),
}

/// The client, the fetcher and, with the demo, the stand-in that serves them.
#[derive(Debug)]
pub struct Session {
    /// The API client.
    pub client: Client,
    /// The picture fetcher.
    pub fetcher: Fetcher,
    /// The demo catalogue's offers (ID, label), with the demo.
    pub demo_offers: Option<Vec<(String, String)>>,
    /// Keeps the demo's stand-in running for the session's life.
    pub mock: Option<MockHandle>,
    /// The local store, once [`Session::open_store`] opened it.
    pub store: Option<Store>,
}

impl Session {
    /// Opens a session; with the demo this starts the stand-in on a free loopback port, so it
    /// must run inside a tokio runtime.
    pub async fn open(config: &SessionConfig) -> Result<Session, SessionError> {
        if config.demo {
            return Self::demo().await;
        }
        let base_text = config
            .api_base
            .clone()
            .unwrap_or_else(|| tmapi::DEFAULT_BASE.to_string());
        let base = Url::parse(&base_text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| SessionError::BadBase(crate::text::sanitize(&base_text).into_owned()))?;
        let token = config
            .token
            .as_deref()
            .map(Token::new)
            .filter(|t| !t.expose().is_empty());
        let mut client_config = ClientConfig::new(base, token);
        client_config.auth = config.auth;
        if let Some(limit) = config.api_timeout {
            limit_call(&mut client_config, limit);
        }
        let client = Client::new(client_config).map_err(|e| SessionError::Http(e.to_string()))?;
        let fetcher =
            Fetcher::new(FetchConfig::default()).map_err(|e| SessionError::Http(e.to_string()))?;
        Ok(Session {
            client,
            fetcher,
            demo_offers: None,
            mock: None,
            store: None,
        })
    }

    async fn demo() -> Result<Session, SessionError> {
        let catalogue = Catalogue::embedded();
        let demo_offers = catalogue
            .offers()
            .iter()
            .map(|offer| (offer.item_id.clone(), offer.label.clone()))
            .collect();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let mock = mock::start(addr, catalogue, MockOptions::default())
            .await
            .map_err(SessionError::Demo)?;
        let client_config = ClientConfig::new(mock.api_base(), Some(Token::new(mock::DEMO_TOKEN)));
        let client = Client::new(client_config).map_err(|e| SessionError::Http(e.to_string()))?;
        let fetcher = Fetcher::new(FetchConfig {
            cdn_route: Some(mock.cdn_base()),
            ..Default::default()
        })
        .map_err(|e| SessionError::Http(e.to_string()))?;
        Ok(Session {
            client,
            fetcher,
            demo_offers: Some(demo_offers),
            mock: Some(mock),
            store: None,
        })
    }

    /// The API host, for messages (no path, no query, no token).
    pub fn api_host(&self) -> String {
        if self.mock.is_some() {
            return "the demo's local stand-in".to_string();
        }
        self.client
            .config()
            .base
            .host_str()
            .unwrap_or("the API")
            .to_string()
    }

    /// Opens the local store at `location` for this session.
    pub fn open_store(&mut self, location: &Location) -> Result<(), StoreError> {
        self.store = Some(Store::open(location)?);
        Ok(())
    }

    /// The key this session's answers are kept under in the store: the demo's own scope, or
    /// the API base without query or user information.
    pub fn scope(&self) -> String {
        if self.mock.is_some() {
            return store::DEMO_SCOPE.to_string();
        }
        store::scope_for_base(&self.client.config().base)
    }

    /// The description of `item`: from the store when it holds the offer (no API call),
    /// otherwise from one API call whose answer is then kept; see [`store::answers`].
    pub async fn item_desc(&self, item: &ItemId, policy: Policy) -> Result<Answer, AnswerError> {
        let scope = self.scope();
        store::answers::get_or_fetch(self.store.as_ref(), &self.client, &scope, item, policy).await
    }

    /// A token is configured (always true with the demo).
    pub fn has_token(&self) -> bool {
        self.client.config().token.is_some()
    }
}

/// Holds a whole call, and so each request and connection in it, to `limit`.
fn limit_call(config: &mut ClientConfig, limit: Duration) {
    config.deadline = limit;
    config.timeout = config.timeout.min(limit);
    config.connect_timeout = config.connect_timeout.min(limit);
}
