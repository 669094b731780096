//! Every reply parser at once, for the fuzz targets in `fuzz/` and the property tests (the
//! parsers themselves are private to the HTTP layer).

use serde::de::DeserializeOwned;

use crate::api::dynamic::DynOutput;
use crate::error::Error;
use crate::http::secret::Token;
use crate::http::wire::{
    CancelReply, Reply, ResultReply, StatusReply, SubmitReply, classify, parse,
};
use crate::model::Output as _;

/// Reads one raw reply as every reply body the client parses and returns what each became:
/// `Ok` with a summary, or the typed error's message. Only for fuzzing and property tests (the
/// parsers are private); re-exported hidden as `runcomfy::__parse_replies`.
pub fn parse_replies(status: u16, body: &[u8]) -> Vec<Result<String, String>> {
    // The transport scrubs its token from every reply; one is scrubbed here too, so the fuzzers
    // cover that walk as well.
    let Ok(token) = Token::new("fuzz-token-1234") else {
        return Vec::new();
    };
    fn read<T: DeserializeOwned + std::fmt::Debug>(
        status: u16,
        body: &[u8],
        token: &Token,
    ) -> Result<T, String> {
        match parse::<T>(status, body, token) {
            Reply::Ok(value) => Ok(value),
            Reply::Api(api) => Err(classify(api, None).to_string()),
            Reply::Invalid { reason, excerpt } => Err(Error::InvalidResponse {
                request_id: None,
                status,
                reason,
                excerpt,
            }
            .to_string()),
        }
    }
    let result = read::<ResultReply>(status, body, &token).map(|reply| {
        // As the dynamic path reads a succeeded reply's output, then lists its files (the
        // generated output types depend on the catalog; this one does not).
        let files = reply
            .output
            .clone()
            .and_then(|o| serde_json::from_value::<DynOutput>(o).ok())
            .map(|o| o.files().len());
        format!("{reply:?} files={files:?}")
    });
    vec![
        read::<SubmitReply>(status, body, &token).map(|r| format!("{r:?}")),
        read::<StatusReply>(status, body, &token).map(|r| format!("{r:?}")),
        result,
        read::<CancelReply>(status, body, &token).map(|r| format!("{r:?}")),
    ]
}
