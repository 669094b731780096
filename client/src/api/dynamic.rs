//! Models chosen at run time (the CLI's and the batch engine's path): a JSON input for a
//! catalog model by id, decoded into that model's typed input ([`ModelInfo::decode`]) and sent
//! through the same submit as a typed input
//! ([`Client::submit_json`](crate::Client::submit_json)). The job is a [`Job`] of [`AnyModel`],
//! whose output is the `output` object as the server sent it.

use serde::{Deserialize, Serialize};

use crate::api::job::Job;
use crate::input::decode_dyn;
use crate::model::{Input, Model, ModelInfo, Upstream};
use crate::schema::Schema;
use crate::validate::instance::{Instance, View};

#[doc(inline)]
pub use crate::model::DynOutput;

/// The model of a job whose model is chosen at run time; the job carries the real one
/// ([`Job::model`]).
#[derive(Debug, Clone, Copy)]
pub struct AnyModel;

/// A job of a model chosen at run time.
pub type DynJob = Job<AnyModel>;

/// The input of [`AnyModel`]: no value of it exists, so nothing can be submitted through the
/// typed path by mistake; [`Client::submit_json`](crate::Client::submit_json) decodes into the
/// real model's input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum NoInput {}

impl Instance for NoInput {
    fn view(&self) -> View<'_> {
        match *self {}
    }
}

impl Input for NoInput {
    type Model = AnyModel;
}

static ANY_MODEL: ModelInfo = ModelInfo {
    id: "",
    display_name: "a model chosen at run time",
    docs: None,
    input: &Schema::NEVER,
    rules: &[],
    outputs: &[],
    upstream: Upstream::UNKNOWN,
    price_units: &[],
    ascii_names: &[],
    input_schema: "false",
    output_schema: "{}",
    decode: decode_dyn::<NoInput>,
};

impl Model for AnyModel {
    /// Empty: a job's own model names it.
    const ID: &'static str = "";
    type Input = NoInput;
    type Output = DynOutput;
    fn info() -> &'static ModelInfo {
        &ANY_MODEL
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::find;

    #[test]
    fn local_media_is_sent_as_data_uris() -> Result<(), Box<dyn std::error::Error>> {
        let model = find("bytedance/seedream-4-0/edit").ok_or("no edit model")?;
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("x.png");
        std::fs::write(&file, crate::media::tests_support::PIXEL_PNG)?;
        let input = serde_json::json!({
            "prompt": "p",
            "images": [file.to_string_lossy(), "https://cdn.example/b.png"],
        });
        let body = model.decode(&input)?.encode(1 << 20)?;
        let sent: serde_json::Value = serde_json::from_slice(&body)?;
        assert_eq!(sent["prompt"], "p");
        assert!(
            sent["images"][0]
                .as_str()
                .is_some_and(|s| s.starts_with("data:image/png;base64,"))
        );
        assert_eq!(sent["images"][1], "https://cdn.example/b.png");
        Ok(())
    }

    #[test]
    fn an_array_is_not_an_object() -> Result<(), Box<dyn std::error::Error>> {
        let model = find("bytedance/seedream-4-0/sequential").ok_or("no model")?;
        let Err(err) = model.decode(&serde_json::json!(["Generate 3 images", 3])) else {
            return Err("an array was accepted".into());
        };
        let problem = &err.report.problems()[0];
        assert_eq!((problem.path.as_str(), problem.rule.as_str()), ("", "type"));
        Ok(())
    }
}
