//! The traits every generated model implements, so one transport serves them all.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::catalog::ModelInfo;
use crate::validate::ValidationReport;

/// A model of the catalog: a marker type naming its id, input and output.
///
/// Generated for every model; the transport is generic over it, so no model has HTTP code of
/// its own.
pub trait Model: Send + Sync + 'static {
    /// The model id, exactly the API path (`bytedance/seedream-4-0/edit`).
    const ID: &'static str;
    /// The typed input (the request body).
    type Input: Input;
    /// The typed output (the `output` object of a succeeded result).
    type Output: Output;
    /// The model's entry in the runtime catalog.
    fn info() -> &'static ModelInfo;
}

/// A generated input type: serializable, and able to check itself before anything is sent.
pub trait Input:
    Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static
{
    /// Checks every constraint and rule of the schema; returns all problems at once.
    fn validate(&self) -> ValidationReport;
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
