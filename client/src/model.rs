//! The traits every generated model implements, so one transport serves them all.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::catalog::ModelInfo;
use crate::media::Files;
use crate::validate::{self, Instance, ValidationReport};

/// A model of the catalog: a marker type naming its id, input and output.
///
/// Generated for every model; the transport is generic over it, so no model has HTTP code of
/// its own.
pub trait Model: Send + Sync + 'static {
    /// The model id, exactly the API path (`bytedance/seedream-4-0/edit`).
    const ID: &'static str;
    /// The typed input (the request body).
    type Input: Input<Model = Self>;
    /// The typed output (the `output` object of a succeeded result).
    type Output: Output;
    /// The model's entry in the runtime catalog.
    fn info() -> &'static ModelInfo;
}

/// A generated input type: serializable, and able to check itself before anything is sent.
///
/// Its [`Instance`] view is the JSON it serializes to, which the model's schema
/// ([`ModelInfo::input`]) is checked against.
pub trait Input:
    Serialize + DeserializeOwned + Instance + Clone + std::fmt::Debug + Send + Sync + 'static
{
    /// The model this input is for.
    type Model: Model<Input = Self>;

    /// Checks every constraint and rule of the schema; returns all problems at once.
    fn validate(&self) -> ValidationReport {
        validate::input(<Self::Model as Model>::info(), self, Files::Local)
    }
}

/// A generated output type.
pub trait Output:
    Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static
{
    /// Every file URL of the output, in schema order, with the field it came from.
    fn files(&self) -> Vec<OutputFile<'_>>;
}

/// One file URL of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputFile<'a> {
    /// The wire name of the output field (`images`).
    pub field: &'a str,
    /// The position in the field, for arrays.
    pub index: Option<usize>,
    /// The URL.
    pub url: &'a str,
}

/// A string is not one of an enum's choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {type_name}; expected one of: {}", expected.join(", "))]
pub struct ParseChoiceError {
    /// The Rust enum.
    pub type_name: &'static str,
    /// What was given.
    pub value: String,
    /// The accepted wire values.
    pub expected: &'static [&'static str],
}

/// Adds `url` to `files` when it is an http(s) URL; generated `Output::files` use it.
pub fn push_url<'a>(
    files: &mut Vec<OutputFile<'a>>,
    field: &'a str,
    index: Option<usize>,
    url: &'a str,
) {
    if url.starts_with("https://") || url.starts_with("http://") {
        files.push(OutputFile { field, index, url });
    }
}

/// Adds the URLs found in output properties the schema does not list (strings, or arrays of
/// strings), so a new kind of output is still downloaded.
pub fn push_extra_urls<'a>(
    files: &mut Vec<OutputFile<'a>>,
    extra: &'a serde_json::Map<String, serde_json::Value>,
) {
    for (field, value) in extra {
        match value {
            serde_json::Value::String(url) => push_url(files, field, None, url),
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(url) = item.as_str() {
                        push_url(files, field, Some(i), url);
                    }
                }
            }
            _ => {}
        }
    }
}
