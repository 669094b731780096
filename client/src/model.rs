//! A model at run time: the traits every generated model implements ([`Model`], [`Input`],
//! [`Output`]), so one transport serves them all; its entry in the runtime catalog
//! ([`ModelInfo`]); and a decoded input of a model chosen at run time ([`DynInput`]).
//!
//! They are one module because each names the others: a [`Model`] gives its [`ModelInfo`],
//! whose `decode` makes a [`DynInput`], which holds the [`ModelInfo`] and an erased [`Input`].
//! Below them are the schema statics, the validator and the media type; above them the
//! catalog's listing (`catalog`), decoding JSON (`input`) and the client. [`encode`] (a typed
//! input to a request body) is here because a [`DynInput`] encodes itself with it.

use std::fmt;

use bytes::Bytes;
use runcomfy_vocab::keyword::Keyword;
use runcomfy_vocab::pointer::Path;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::field::{Field, OutputField, find_choice};
use crate::media::Files;
use crate::price::{Price, UnitField};
use crate::report::{Problem, ValidationError, ValidationReport};
use crate::schema::{CrossRule, MediaKind, Schema};
use crate::validate::{self, InputSpec, Instance};

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
        validate::typed_input(<Self::Model as Model>::info(), self, Files::Local)
    }
}

/// A generated output type.
pub trait Output:
    Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static
{
    /// Every file URL of the output, in schema order, with the field it came from.
    fn files(&self) -> Vec<OutputFile<'_>>;

    /// The files of this output as a job of `model` made it: [`files`](Self::files) for a
    /// typed output, which is `model`'s own; an output read at run time ([`DynOutput`]) reads
    /// the fields `model` lists as that model's typed output does.
    fn files_of(&self, model: &ModelInfo) -> Vec<OutputFile<'_>> {
        let _ = model;
        self.files()
    }
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

impl OutputFile<'_> {
    /// Whether its URL is a path (`/files/a.png`), on the API's own origin: shown to a person
    /// as [`Client::output_url`](crate::Client::output_url) gives it, which can be opened.
    pub fn is_path(&self) -> bool {
        is_path(self.url)
    }
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

/// Adds a file of an output field the schema lists; generated `Output::files` use it. Every
/// string there is a file: one that is not an http(s) URL fails its download (the job's
/// output would be lost otherwise), and only an empty one is not a file.
pub fn push_url<'a>(
    files: &mut Vec<OutputFile<'a>>,
    field: &'a str,
    index: Option<usize>,
    url: &'a str,
) {
    if !url.trim().is_empty() {
        files.push(OutputFile { field, index, url });
    }
}

/// The output of a job of a model chosen at run time (or run
/// [`unchecked`](crate::unchecked)): the `output` object as the server sent it. Its files are
/// every file [`push_extra_urls`] finds in it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct DynOutput(pub serde_json::Map<String, serde_json::Value>);

impl Output for DynOutput {
    fn files(&self) -> Vec<OutputFile<'_>> {
        let mut files = Vec::new();
        push_extra_urls(&mut files, &self.0);
        files
    }

    /// The fields `model` says hold files first, in its order, each string there a file (QA
    /// repro49 N1: `"images": ["https://...", "n/a"]` saved one file and said nothing of the
    /// other, where the typed output's download fails on it); then the rest as
    /// [`push_extra_urls`] finds them.
    fn files_of(&self, model: &ModelInfo) -> Vec<OutputFile<'_>> {
        let listed = |name: &str| model.outputs.iter().any(|f| f.files && f.name == name);
        let mut files = Vec::new();
        for field in model.outputs.iter().filter(|f| f.files) {
            let Some((name, value)) = self.0.get_key_value(field.name) else {
                continue;
            };
            match value {
                serde_json::Value::String(url) => push_url(&mut files, name, None, url),
                serde_json::Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        match item {
                            serde_json::Value::String(url) => {
                                push_url(&mut files, name, Some(i), url);
                            }
                            other => push_value(&mut files, name, Some(i), other, true),
                        }
                    }
                }
                other => push_value(&mut files, name, None, other, true),
            }
        }
        push_fields(&mut files, self.0.iter().filter(|(name, _)| !listed(name)));
        files
    }
}

/// Adds the files found in output properties the schema does not list, so a new kind of
/// output is still downloaded: any URL, or a path (`/files/a.png`) under a name that says it
/// holds files, at any depth.
pub fn push_extra_urls<'a>(
    files: &mut Vec<OutputFile<'a>>,
    extra: &'a serde_json::Map<String, serde_json::Value>,
) {
    push_fields(files, extra);
}

/// The places of the fields `model` lists as files where `output` (an output as JSON) names
/// no file (`images[1]`: a number, `null`, blank text, an object with no URL in it), each with
/// its value: what a download of the output cannot fetch, said rather than skipped (QA repro51
/// F2). A field absent, or `null` in place of the whole field, is none.
pub(crate) fn not_files<'o>(
    model: &ModelInfo,
    output: &'o serde_json::Value,
) -> Vec<(String, &'o serde_json::Value)> {
    let names_one = |value: &'o serde_json::Value| match value {
        serde_json::Value::String(text) => !text.trim().is_empty(),
        other => {
            let mut files = Vec::new();
            push_value(&mut files, "", None, other, true);
            !files.is_empty()
        }
    };
    let mut found = Vec::new();
    for field in model.outputs.iter().filter(|f| f.files) {
        match output.get(field.name) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if !names_one(item) {
                        found.push((format!("{}[{i}]", field.name), item));
                    }
                }
            }
            Some(value) if !names_one(value) => found.push((field.name.to_owned(), value)),
            Some(_) => {}
        }
    }
    found
}

/// Adds the files [`push_value`] finds in each of `fields`, an output's properties.
fn push_fields<'a>(
    files: &mut Vec<OutputFile<'a>>,
    fields: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
) {
    for (field, value) in fields {
        push_value(
            files,
            field,
            None,
            value,
            MediaKind::names_output_files(field),
        );
    }
}

/// Adds the files of `value`, an output property's value or a part of it, under the
/// property's name (and position, in a list): a string is a file when it is a URL
/// (`scheme://`, any scheme and case; one not http(s) fails its download), a `data:` URI (the
/// file inline, saved as a fetched one is, or refused when malformed), or a path when
/// `named` (its property, or its key in an object, says it holds files:
/// [`MediaKind::names_output_files`]; a path is fetched from the API's own origin). Other
/// text is no file even under such a name (`"url": "n/a"`): the name was only a guess, and
/// the output keeps it. Lists and objects are searched at any depth (`{"audio": {"url":
/// ...}}`, `[{"url": ...}]`).
fn push_value<'a>(
    files: &mut Vec<OutputFile<'a>>,
    field: &'a str,
    index: Option<usize>,
    value: &'a serde_json::Value,
    named: bool,
) {
    match value {
        serde_json::Value::String(url)
            if has_scheme(url) || is_inline(url) || (named && is_path(url)) =>
        {
            push_url(files, field, index, url);
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                push_value(files, field, index.or(Some(i)), item, named);
            }
        }
        serde_json::Value::Object(object) => {
            // Within a property that holds files, every key does (`{"images": {"0": "/a.png"}}`,
            // QA repro51 F8); elsewhere, only a key whose name says so.
            for (key, item) in object {
                push_value(
                    files,
                    field,
                    index,
                    item,
                    named || MediaKind::names_output_files(key),
                );
            }
        }
        _ => {}
    }
}

/// Whether `text` is a file given inline, a `data:` URI (any case, after leading whitespace).
fn is_inline(text: &str) -> bool {
    crate::media::after_prefix(text.trim_start(), "data:").is_some()
}

/// Whether `text` is a path on some host (`/files/a.png`, `//cdn.example/a.png`), which is
/// fetched from the API's own origin.
pub(crate) fn is_path(text: &str) -> bool {
    text.trim_start().starts_with('/')
}

/// Whether `text` starts with a URL scheme and `://` (RFC 3986's scheme characters), after
/// leading whitespace, as a URL parser reads it.
fn has_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.trim_start().split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// One model of the catalog.
#[derive(Debug)]
pub struct ModelInfo {
    /// The model id, exactly the API path.
    pub id: &'static str,
    /// A human name for the model.
    pub display_name: &'static str,
    /// Documentation of the model, if the catalog has any.
    pub docs: Option<&'static str>,
    /// The input's schema: an object whose properties are the input fields.
    pub input: &'static Schema,
    /// Rules across fields.
    pub rules: &'static [CrossRule],
    /// The fields of the output object, in schema order.
    pub outputs: &'static [OutputField],
    /// What RunComfy says of the model besides its schema.
    pub upstream: Upstream,
    /// The input fields that give a job's price units (outputs asked for, seconds), found by
    /// the vocabulary's rule on field names or named in the overlay (`price_units`).
    pub price_units: &'static [UnitField],
    /// The input fields whose names are not ASCII, each with an ASCII name (its Rust field's,
    /// transliterated: `高清` → `gao_qing`, `🎨` → `art`), for flags any keyboard can type.
    pub ascii_names: &'static [(&'static str, &'static str)],
    /// The input JSON Schema as the catalog has it (after the overlay's fixes), as JSON text.
    pub input_schema: &'static str,
    /// The output JSON Schema (the `output` object), as JSON text.
    pub output_schema: &'static str,
    /// Decodes a JSON input into the model's typed input and validates it: the one way from
    /// JSON to a request body ([`crate::input::decode`]).
    /// `decode(self, input, files)`: the model passed is the one the input is for.
    pub decode:
        fn(&'static ModelInfo, &serde_json::Value, Files) -> Result<DynInput, ValidationError>,
}

/// What RunComfy publishes about a model besides its schemas (kept apart from the maintainer's
/// overlay, so a re-import refreshes it).
#[derive(Debug, Clone, Default)]
pub struct Upstream {
    /// The kind of files the model returns, when known.
    pub output_kind: Option<MediaKind>,
    /// RunComfy's categories (`text-to-image`).
    pub categories: &'static [&'static str],
    /// RunComfy's price as of the last import or pull (most models say only whether it is
    /// `fixed` or `base`); the API has today's
    /// ([`Client::model_price`](crate::Client::model_price)).
    pub price: Price,
    /// Whether RunComfy publishes the model's output schema. Most models have none: their
    /// [`ModelInfo::outputs`] are then the ones RunComfy's docs show for every model (`image`,
    /// `video`, `images`, `videos`), and a job's files are saved whatever its fields are.
    pub output_published: bool,
}

impl Upstream {
    /// Nothing published: no output kind, no categories, no price.
    pub const UNKNOWN: Upstream = Upstream {
        output_kind: None,
        categories: &[],
        price: Price::UNKNOWN,
        output_published: false,
    };
}

impl ModelInfo {
    /// The input fields, in schema order: the input's properties, then those only a branch of
    /// it names (`anyOf`, `oneOf`, `if`/`then`/`else`, `dependentSchemas`: a `oneOf` of object
    /// shapes), which are never required as fields ([`Field::in_branch`]).
    pub fn fields(&self) -> impl ExactSizeIterator<Item = Field> + '_ {
        let members = self.input.in_place();
        let own = self.input.properties.iter().map(|p| Field {
            name: p.name,
            schema: p.schema,
            required: members.iter().any(|m| m.requires(p.name)),
            input: self.input,
        });
        let branches = self.input.branch_properties().into_iter().map(|p| Field {
            name: p.name,
            schema: p.schema,
            required: false,
            input: self.input,
        });
        own.chain(branches).collect::<Vec<_>>().into_iter()
    }

    /// Looks a field up by its wire name.
    pub fn field(&self, name: &str) -> Option<Field> {
        self.fields().find(|f| f.name == name)
    }

    /// Checks a JSON input and decodes it, as a request body would be (local files allowed);
    /// see [`crate::input::decode`].
    pub fn decode(&'static self, input: &serde_json::Value) -> Result<DynInput, ValidationError> {
        (self.decode)(self, input, Files::Local)
    }

    /// Replaces each choice a JSON input names by a value or alias the user types (`"16:9"`,
    /// `"Fast"`, `10` for the text `"10"`) with its wire value, so hand-written inputs (the
    /// CLI's `--input`, batch lines) take what the flags take. Anything else is left for
    /// validation to report.
    ///
    /// Returns a warning for each choice read as another spelling than its own or its alias
    /// (another case, spaces at its ends, a number for text): what is sent differs from what
    /// was written, and the person who wrote it should see it.
    pub fn normalize_choices(
        &self,
        input: &mut serde_json::Map<String, serde_json::Value>,
    ) -> ValidationReport {
        let mut report = ValidationReport::new();
        for (key, value) in input.iter_mut() {
            let Some(field) = self.field(key) else {
                continue;
            };
            let choices = field.choices();
            // A union's branch of choices (fal's `image_size`: one of some sizes, or an
            // object) reads a value only the field does not take as written: an open set
            // (`anyOf [enum, string]`) keeps the text typed.
            let alternatives = field.alternative_choices();
            let mut fix = |v: &mut serde_json::Value, path: Path| {
                // Text for a choice, or a number for a choice written as text (`"5"` of
                // `"auto", "5", ...`).
                let typed = match v {
                    serde_json::Value::String(text) => text.clone(),
                    // A whole number as an integer (`5.0` for `"5"`).
                    serde_json::Value::Number(n) => match n.as_f64() {
                        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                            format!("{}", f as i64)
                        }
                        _ => n.to_string(),
                    },
                    _ => return,
                };
                // A value that is a choice as written stays (`"5"` of `["Auto", 5, "5"]`).
                if choices.iter().any(|c| c.value.to_value() == *v) {
                    return;
                }
                let choice = find_choice(&choices, &typed).or_else(|| {
                    find_choice(&alternatives, &typed).filter(|_| !field.takes_value(v))
                });
                let Some(choice) = choice else {
                    return;
                };
                let value = choice.value.to_value();
                let alias = v.is_string() && choice.alias == Some(typed.as_str());
                if *v != value && !alias {
                    report.warning(
                        &path,
                        Keyword::Enum.name(),
                        None,
                        format!("{v} is sent as the choice {value}"),
                    );
                }
                *v = value;
            };
            let path = Path::root().key(key);
            match value {
                serde_json::Value::Array(items) if field.is_list() => {
                    for (i, v) in items.iter_mut().enumerate() {
                        fix(v, path.index(i));
                    }
                }
                other => fix(other, path),
            }
        }
        report
    }
}

impl InputSpec for ModelInfo {
    fn schema(&self) -> &'static Schema {
        self.input
    }
    fn rules(&self) -> &'static [CrossRule] {
        self.rules
    }
}

/// A decoded, valid input of a model chosen at run time: the typed input behind a trait
/// object, ready to be encoded.
pub struct DynInput {
    model: &'static ModelInfo,
    input: Box<dyn ErasedInput>,
    warnings: Vec<Problem>,
}

impl DynInput {
    /// A decoded, valid input of `model` (`crate::input::decode_dyn` makes them).
    pub(crate) fn new<I: Input>(
        model: &'static ModelInfo,
        input: I,
        warnings: Vec<Problem>,
    ) -> Self {
        Self {
            model,
            input: Box::new(input),
            warnings,
        }
    }

    /// The model.
    pub fn model(&self) -> &'static ModelInfo {
        self.model
    }

    /// The warnings validation raised.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// The typed input, as validation sees it.
    pub fn instance(&self) -> &dyn Instance {
        self.input.instance()
    }

    /// The request body: the typed input serialized (local files as `data:` URIs), failing
    /// once it passes `limit` bytes.
    pub fn encode(&self, limit: usize) -> Result<Bytes, Error> {
        self.input.encode(limit)
    }
}

impl Clone for DynInput {
    fn clone(&self) -> Self {
        Self {
            model: self.model,
            input: self.input.clone_box(),
            warnings: self.warnings.clone(),
        }
    }
}

impl fmt::Debug for DynInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynInput")
            .field("model", &self.model.id)
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

/// What [`DynInput`] needs of a typed input.
trait ErasedInput: fmt::Debug + Send + Sync {
    fn encode(&self, limit: usize) -> Result<Bytes, Error>;
    fn instance(&self) -> &dyn Instance;
    fn clone_box(&self) -> Box<dyn ErasedInput>;
}

impl<I: Input> ErasedInput for I {
    fn encode(&self, limit: usize) -> Result<Bytes, Error> {
        encode(self, limit)
    }
    fn instance(&self) -> &dyn Instance {
        self
    }
    fn clone_box(&self) -> Box<dyn ErasedInput> {
        Box::new(self.clone())
    }
}

/// Serializes an input into a request body, failing as soon as it passes `limit` bytes
/// rather than building all of an oversized body first.
pub fn encode<I: serde::Serialize + ?Sized>(input: &I, limit: usize) -> Result<Bytes, Error> {
    struct Capped {
        buf: Vec<u8>,
        limit: usize,
        over: bool,
    }
    impl std::io::Write for Capped {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            if self.buf.len() + data.len() > self.limit {
                self.over = true;
                return Err(std::io::Error::other("body limit"));
            }
            self.buf.extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped {
        buf: Vec::new(),
        limit,
        over: false,
    };
    match serde_json::to_writer(&mut out, input) {
        Ok(()) => Ok(Bytes::from(out.buf)),
        Err(_) if out.over => Err(Error::BodyTooLarge { limit }),
        Err(err) => Err(Error::Encode(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_files_are_the_urls() {
        let output: DynOutput = serde_json::from_value(serde_json::json!({
            "images": ["https://cdn.example/a.png", "https://cdn.example/b.png"],
            "seed": 3,
            "note": "not a url"
        }))
        .unwrap_or_default();
        let files = output.files();
        assert_eq!(files.len(), 2);
        assert_eq!(files[1].field, "images");
        assert_eq!(files[1].index, Some(1));
    }

    /// A field the job's model lists as files is read as its typed output reads it: every
    /// string a file; the rest of the output as [`push_extra_urls`] reads it.
    #[test]
    fn a_models_file_fields_are_read_as_its_typed_output_reads_them()
    -> Result<(), Box<dyn std::error::Error>> {
        let model = crate::catalog::find("bytedance/seedream-4-0/sequential").ok_or("no model")?;
        let reply = serde_json::json!({
            "note": "https://cdn.example/n.png",
            "images": ["https://cdn.example/a.png", "n/a", ""],
            "preview_image": "pending",
        });
        let output: DynOutput = serde_json::from_value(reply.clone())?;
        let read = |files: Vec<OutputFile<'_>>| -> Vec<(String, Option<usize>, String)> {
            files
                .iter()
                .map(|f| (f.field.to_owned(), f.index, f.url.to_owned()))
                .collect()
        };
        let typed: crate::outputs::MediaOutput = serde_json::from_value(reply)?;
        assert_eq!(read(output.files_of(model)), read(typed.files()));
        assert_eq!(
            read(output.files_of(model)),
            [
                (
                    "images".to_owned(),
                    Some(0),
                    "https://cdn.example/a.png".to_owned()
                ),
                ("images".to_owned(), Some(1), "n/a".to_owned()),
                (
                    "note".to_owned(),
                    None,
                    "https://cdn.example/n.png".to_owned()
                ),
            ]
        );
        // With no model, the text is a value the output keeps, not a file.
        assert_eq!(output.files().len(), 2);
        Ok(())
    }

    #[test]
    fn output_files_that_cannot_be_fetched_are_listed_not_dropped() {
        // Listed, their downloads fail (or, for the upper-case scheme, succeed): a file the
        // output names is never silently left out. Text that names no file, under a name that
        // suggests one, is a value the output keeps, not a download that fails every time.
        let output: DynOutput = serde_json::from_value(serde_json::json!({
            "images": ["HTTPS://cdn.example/a.png", "/files/b.png", "javascript:alert(1)", "data:image/png;base64,iVBO"],
            "thumbnail_url": "n/a",
            "preview_image": "pending",
            "video": " http://cdn.example/c.mp4",
            "extra": "ftp://cdn.example/d.png",
            "caption": "note: a cat",
            "image_description": "a cat",
            "empty_images": [""],
            "audio": {"url": "https://cdn.example/e.wav", "format": "wav"},
            "clips": [{"file": "https://cdn.example/f.mp4", "seconds": 5}]
        }))
        .unwrap_or_default();
        let urls: Vec<&str> = output.files().iter().map(|f| f.url).collect();
        assert_eq!(
            urls,
            [
                "HTTPS://cdn.example/a.png",
                "/files/b.png",
                "data:image/png;base64,iVBO",
                " http://cdn.example/c.mp4",
                "ftp://cdn.example/d.png",
                "https://cdn.example/e.wav",
                "https://cdn.example/f.mp4",
            ]
        );
    }

    #[test]
    fn oversized_bodies_are_refused_before_sending() {
        let big = vec!["x".repeat(100); 100];
        assert!(matches!(
            encode(&big, 1000),
            Err(Error::BodyTooLarge { limit: 1000 })
        ));
        assert!(encode(&big, 1 << 20).is_ok());
    }
}
