//! The API's catalog, read live: a model as the API states it today (`GET
//! /v1/models/{model_id}`), and every model it lists (`GET /v1/models`, page by page).

use reqwest::Method;
use tracing::Instrument as _;

use crate::api::Client;
use crate::error::Error;
use crate::http::retry::Failure;
use crate::http::transport::Call;
use crate::http::wire::{ModelReply, ModelsReply};
use crate::model::ModelInfo;
use crate::price::{Price, PriceUnit, Pricing, Usd};
use crate::schema::MediaKind;

/// Models asked for per page of `GET /v1/models`.
const PAGE: usize = 100;

/// Pages read at most: a server that always says there are more cannot keep the client.
const MAX_PAGES: usize = 100;

impl Client {
    /// The model as the API states it now (`GET /v1/models/{model_id}`): its name, kind, price
    /// and input schema, whether or not this build's catalog has it. What the reply leaves out
    /// (or sends in a form not understood) is unknown in the result.
    pub async fn live_model(&self, model_id: &str) -> Result<LiveModel, Error> {
        let http = &self.inner.http;
        let call = Call {
            method: Method::GET,
            url: super::submit::model_url(http, model_id)?,
            body: None,
            timeout: self.inner.timeouts.request,
            max_reply: crate::http::transport::MAX_REPLY_BYTES,
        };
        let mut reply: ModelReply = http
            .send(call, Failure::is_transient)
            .instrument(tracing::debug_span!("runcomfy.model", model_id))
            .await
            .map_err(|failure| failure.error)?;
        // Another model's price is no price of this one: an estimate, and `--max-cost`, would
        // trust it.
        if let Some(other) = reply
            .model_id
            .take()
            .filter(|id| id.trim_matches('/') != model_id.trim_matches('/'))
        {
            return Err(Error::InvalidResponse {
                request_id: None,
                status: 200,
                // Shown through `printable` by the error's `Display`.
                reason: format!("the reply is for model `{other}`, not `{model_id}`"),
                excerpt: String::new(),
            });
        }
        Ok(LiveModel::of(model_id.to_owned(), reply))
    }

    /// The model's price as the API states it now ([`live_model`](Self::live_model)'s). What
    /// the reply leaves out is unknown in the result: combine it with the catalog's
    /// ([`Price::or`]).
    pub async fn model_price(&self, model_id: &str) -> Result<Price, Error> {
        self.live_model(model_id).await.map(|model| model.price)
    }

    /// The price to estimate a job of `model` at: today's ([`Client::model_price`]), with what
    /// the API leaves out taken from the catalog's; the catalog's alone when the API cannot
    /// say, with why ([`EstimatePrice::unread`]), for the caller to tell its user.
    pub async fn estimate_price(&self, model: &ModelInfo) -> EstimatePrice {
        let catalog = &model.upstream.price;
        match self.model_price(model.id).await {
            Ok(price) => EstimatePrice {
                price: price.or(catalog),
                unread: None,
            },
            Err(err) => EstimatePrice {
                price: catalog.clone(),
                unread: Some(err),
            },
        }
    }

    /// What a job of `input` will cost at today's price ([`estimate_price`](Self::estimate_price)),
    /// worked out without opening its media files; with why the API's price could not be read,
    /// when the catalog's was used. Compare it with a budget before [`submit`](Self::submit):
    /// the API has no spending cap of its own.
    pub async fn estimate<I: crate::model::Input>(
        &self,
        input: &I,
    ) -> (crate::estimate::Estimate, Option<Error>) {
        let EstimatePrice { price, unread } = self
            .estimate_price(<I::Model as crate::model::Model>::info())
            .await;
        (crate::estimate::of_input(&price, input), unread)
    }

    /// Every model the API lists now (`GET /v1/models`, page by page, without their schemas),
    /// in the API's order, whether or not this build's catalog has it. Pages are read until
    /// the reply's `total` is reached, or without one, until a page is short of what was asked
    /// (a server may give fewer a page than asked: each page starts where the last ended), or
    /// a page lists no model it had not listed already. An entry that names no model is left
    /// out, with a warning that gives its position in the listing. A listing that still says
    /// there is more after 100 pages is cut there, with a warning.
    pub async fn live_models(&self) -> Result<Vec<LiveModel>, Error> {
        let http = &self.inner.http;
        let mut models = Vec::new();
        let mut listed = std::collections::HashSet::new();
        let mut seen = 0;
        for page in 0..MAX_PAGES {
            let mut url = http.url(["v1", "models"]);
            url.query_pairs_mut()
                .append_pair("limit", &PAGE.to_string())
                .append_pair("offset", &seen.to_string());
            let call = Call {
                method: Method::GET,
                url,
                body: None,
                timeout: self.inner.timeouts.request,
                max_reply: crate::http::transport::MAX_REPLY_BYTES,
            };
            let reply: ModelsReply = http
                .send(call, Failure::is_transient)
                .instrument(tracing::debug_span!("runcomfy.models", page))
                .await
                .map_err(|failure| failure.error)?;
            let count = reply.models.len();
            let mut unnamed = Vec::new();
            let mut new = 0;
            for (position, entry) in reply.models.into_iter().enumerate() {
                let mut model = serde_json::from_value::<ModelReply>(entry).unwrap_or_default();
                match model.model_id.take() {
                    // A model listed again (pages that overlap) is listed once.
                    Some(id) if !listed.insert(id.clone()) => {}
                    Some(id) => {
                        new += 1;
                        models.push(LiveModel::of(id, model));
                    }
                    None => unnamed.push(seen + position + 1),
                }
            }
            if !unnamed.is_empty() {
                // Their positions only: the entries themselves are server text.
                tracing::warn!(
                    positions = ?unnamed,
                    "GET /v1/models listed entries that name no model; they are left out"
                );
            }
            seen += count;
            if count > 0 && new == 0 && unnamed.is_empty() {
                // The same models again: a server that ignores `offset` would repeat them for
                // ever.
                tracing::warn!(
                    offset = seen - count,
                    "GET /v1/models gave only models it had listed already; the listing ends there"
                );
                return Ok(models);
            }
            let done = match reply.total {
                Some(total) => count == 0 || seen as u64 >= total,
                None => count < PAGE,
            };
            if done {
                return Ok(models);
            }
        }
        tracing::warn!(
            listed = models.len(),
            "GET /v1/models still had more after {MAX_PAGES} pages; the models past them are \
             left out"
        );
        Ok(models)
    }

    /// Every model's price as the API states it now ([`live_models`](Self::live_models)), by
    /// model id, in the API's order.
    pub async fn model_prices(&self) -> Result<Vec<(String, Price)>, Error> {
        let models = self.live_models().await?;
        Ok(models.into_iter().map(|m| (m.id, m.price)).collect())
    }
}

/// A model as the API states it now ([`Client::live_model`], [`Client::live_models`]). Its
/// texts are the server's: show them through [`printable`](crate::error::printable).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LiveModel {
    /// The model id, as asked for (one model) or as listed.
    pub id: String,
    /// The name RunComfy shows, if the reply gave one.
    pub display_name: Option<String>,
    /// What the model makes, if the reply said it in a word this client knows.
    pub kind: Option<MediaKind>,
    /// Today's price; what the reply left out is unknown.
    pub price: Price,
    /// The model's input JSON Schema as the API serves it (one model only: the listing is
    /// read without schemas). Not checked here: [`unchecked`](crate::unchecked) runs a model
    /// without one.
    pub input_schema: Option<serde_json::Map<String, serde_json::Value>>,
}

impl LiveModel {
    fn of(id: String, mut reply: ModelReply) -> Self {
        LiveModel {
            id,
            display_name: reply.display_name.take().filter(|n| !n.trim().is_empty()),
            kind: reply.kind.take().as_deref().and_then(MediaKind::parse),
            input_schema: reply.input_schema.take(),
            price: price_of(reply),
        }
    }
}

/// A model's price for an estimate ([`Client::estimate_price`]).
#[derive(Debug)]
pub struct EstimatePrice {
    /// Today's price completed by the catalog's, or the catalog's.
    pub price: Price,
    /// Why today's price could not be read, when `price` is the catalog's alone.
    pub unread: Option<Error>,
}

/// The price a reply states.
fn price_of(reply: ModelReply) -> Price {
    Price {
        usd: reply.base_price_usd.and_then(Usd::from_dollars),
        unit: reply.price_unit.as_deref().and_then(PriceUnit::parse),
        pricing: reply
            .pricing
            .or(reply.pricing_mode)
            .as_deref()
            .map(Pricing::read),
        note: reply
            .pricing_note
            .filter(|n| !n.trim().is_empty())
            .map(Into::into),
    }
}
