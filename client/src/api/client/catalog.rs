//! The API's catalog, read live: a model's price today (`GET /v1/models/{model_id}`), and every
//! model's (`GET /v1/models`, page by page).

use reqwest::Method;
use tracing::Instrument as _;

use crate::api::Client;
use crate::error::Error;
use crate::http::retry::Failure;
use crate::http::transport::Call;
use crate::http::wire::{ModelReply, ModelsReply};
use crate::model::ModelInfo;
use crate::price::{Price, PriceUnit, Pricing, Usd};

/// Models asked for per page of `GET /v1/models`.
const PAGE: usize = 100;

/// Pages read at most: a server that always says there are more cannot keep the client.
const MAX_PAGES: usize = 100;

impl Client {
    /// The model's price as the API states it now (`GET /v1/models/{model_id}`). What the
    /// reply leaves out (or sends in a form not understood) is unknown in the result:
    /// combine it with the catalog's ([`Price::or`]).
    pub async fn model_price(&self, model_id: &str) -> Result<Price, Error> {
        let http = &self.inner.http;
        let call = Call {
            method: Method::GET,
            url: http.url(["v1", "models"].into_iter().chain(model_id.split('/'))),
            body: None,
            timeout: self.inner.timeouts.request,
        };
        let reply: ModelReply = http
            .send(call, Failure::is_transient)
            .instrument(tracing::debug_span!("runcomfy.price", model_id))
            .await
            .map_err(|failure| failure.error)?;
        // Another model's price is no price of this one: an estimate, and `--max-cost`, would
        // trust it.
        if let Some(other) = reply
            .model_id
            .as_deref()
            .filter(|id| id.trim_matches('/') != model_id.trim_matches('/'))
        {
            return Err(Error::InvalidResponse {
                request_id: None,
                status: 200,
                // Shown through `printable` by the error's `Display`.
                reason: format!("the price reply is for model `{other}`, not `{model_id}`"),
                excerpt: String::new(),
            });
        }
        Ok(price_of(reply))
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

    /// Every model's price as the API states it now (`GET /v1/models`, page by page), by
    /// model id, in the API's order. An entry that names no model is left out, with a warning
    /// that gives its position in the listing. A listing that still says there is more after
    /// 100 pages is cut there, with a warning.
    pub async fn model_prices(&self) -> Result<Vec<(String, Price)>, Error> {
        let http = &self.inner.http;
        let mut prices = Vec::new();
        for page in 0..MAX_PAGES {
            let mut url = http.url(["v1", "models"]);
            url.query_pairs_mut()
                .append_pair("limit", &PAGE.to_string())
                .append_pair("offset", &(page * PAGE).to_string());
            let call = Call {
                method: Method::GET,
                url,
                body: None,
                timeout: self.inner.timeouts.request,
            };
            let reply: ModelsReply = http
                .send(call, Failure::is_transient)
                .instrument(tracing::debug_span!("runcomfy.prices", page))
                .await
                .map_err(|failure| failure.error)?;
            let count = reply.models.len();
            let mut unnamed = Vec::new();
            for (position, entry) in reply.models.into_iter().enumerate() {
                let mut model = serde_json::from_value::<ModelReply>(entry).unwrap_or_default();
                match model.model_id.take() {
                    Some(id) => prices.push((id, price_of(model))),
                    None => unnamed.push(page * PAGE + position + 1),
                }
            }
            if !unnamed.is_empty() {
                // Their positions only: the entries themselves are server text.
                tracing::warn!(
                    positions = ?unnamed,
                    "GET /v1/models listed entries that name no model; they are left out"
                );
            }
            let seen = page * PAGE + count;
            if count < PAGE || reply.total.is_some_and(|total| seen as u64 >= total) {
                return Ok(prices);
            }
        }
        tracing::warn!(
            listed = prices.len(),
            "GET /v1/models still had more after {MAX_PAGES} pages; the models past them are \
             left out"
        );
        Ok(prices)
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
