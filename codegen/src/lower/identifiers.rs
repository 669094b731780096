//! Where each `$id` and anchor of a schema file points, and the base URI every schema in it is
//! read under, so that a `$ref` resolves the way JSON Schema says: as a URI reference against
//! the base URI of the schema that holds it (RFC 3986 §5), to a schema of this file.
//!
//! A `$ref` to a document that is not in the file (another file, a URL) stays refused: the
//! generator reads one file and never fetches anything.

use std::collections::HashMap;

use runcomfy_vocab::keyword::{Dialect, Holds, Keyword};
use runcomfy_vocab::pointer::{Fragment, Pointer, fragment};
use serde_json::{Map, Value};
use url::Url;

/// The base URI of a file whose root has no `$id`. Its scheme is nobody's, so no `$ref` a
/// person writes names it by accident; relative references against it (`other.json`) name
/// another document, as they would against the file's own location.
const FILE_BASE: &str = "runcomfy-catalog:///input.json";

/// The identifiers of one schema file.
#[derive(Debug)]
pub(crate) struct Identifiers {
    /// The base URI of each schema, by its pointer.
    bases: HashMap<String, Url>,
    /// Each schema resource (its URI, without a fragment) and where it is.
    resources: HashMap<String, Pointer>,
    /// Each plain-name fragment (draft 7's `"$id": "#name"`, later drafts' `$anchor` and
    /// `$dynamicAnchor`) by its resource's URI and name.
    anchors: HashMap<(String, String), Pointer>,
}

/// Why a `$ref` does not resolve to a schema of the file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// A plain-name fragment no `$id` or `$anchor` of the resource declares.
    Name(String),
    /// Not a URI reference against the base URI in effect (which it names, if any).
    NotUri(Option<String>),
    /// A document that is not this file.
    Remote,
    /// A fragment that is not valid: the reason.
    Fragment(&'static str),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::Name(name) => write!(f, "no `$id` or `$anchor` names `{name}`"),
            Unresolved::NotUri(None) => f.write_str("it is not a URI reference"),
            Unresolved::NotUri(Some(base)) => write!(
                f,
                "it is not a URI reference that resolves against the base URI `{base}`"
            ),
            Unresolved::Remote => {
                f.write_str("it names another document (remote references are not supported)")
            }
            Unresolved::Fragment(why) => f.write_str(why),
        }
    }
}

/// A problem with an identifier itself: where, and what.
pub(crate) type Problem = (Pointer, String);

impl Identifiers {
    /// Walks every schema of `doc` (never JSON data such as `enum` or `default` values),
    /// noting each one's base URI and the resources and anchors its identifiers declare.
    pub(crate) fn scan(doc: &Value, dialect: Dialect, problems: &mut Vec<Problem>) -> Self {
        let mut identifiers = Identifiers {
            bases: HashMap::new(),
            resources: HashMap::new(),
            anchors: HashMap::new(),
        };
        if let Ok(base) = Url::parse(FILE_BASE) {
            identifiers
                .resources
                .insert(base.as_str().to_owned(), Pointer::root());
            identifiers.walk(doc, &Pointer::root(), &base, dialect, problems);
        }
        identifiers
    }

    fn walk(
        &mut self,
        schema: &Value,
        pointer: &Pointer,
        parent: &Url,
        dialect: Dialect,
        problems: &mut Vec<Problem>,
    ) {
        let Value::Object(map) = schema else {
            return;
        };
        let base = self.declare(map, pointer, parent, dialect, problems);
        self.bases.insert(pointer.as_str().to_owned(), base.clone());
        for (key, value) in map {
            let Some(keyword) = dialect.keyword(key) else {
                continue;
            };
            let at = pointer.join(key);
            match (keyword.holds(), value) {
                (Holds::Schema | Holds::SchemaOrSchemas, Value::Object(_) | Value::Bool(_)) => {
                    self.walk(value, &at, &base, dialect, problems)
                }
                (Holds::Schemas | Holds::SchemaOrSchemas, Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        self.walk(item, &at.index(i), &base, dialect, problems);
                    }
                }
                (Holds::SchemaMap, Value::Object(entries)) => {
                    for (name, item) in entries {
                        self.walk(item, &at.join(name), &base, dialect, problems);
                    }
                }
                _ => {}
            }
        }
    }

    /// The base URI of the schema `map` at `pointer`, noting the resource or anchor its `$id`
    /// and `$anchor` declare.
    fn declare(
        &mut self,
        map: &Map<String, Value>,
        pointer: &Pointer,
        parent: &Url,
        dialect: Dialect,
        problems: &mut Vec<Problem>,
    ) -> Url {
        let mut base = parent.clone();
        // Up to draft 7 the keywords beside a `$ref` are ignored, `$id` among them.
        let ignored = map.contains_key(Keyword::Ref.name()) && !dialect.ref_siblings_apply();
        let id = map
            .iter()
            .find(|(key, _)| dialect.keyword(key) == Some(Keyword::Id));
        if let Some((key, value)) = id
            && !ignored
        {
            let at = pointer.join(key);
            match value.as_str().map(|id| parent.join(id)) {
                None => problems.push((at, format!("`{key}` must be a URI string"))),
                Some(Err(_)) => problems.push((
                    at,
                    format!(
                        "`{key}` {value} is not a URI reference against the base URI `{parent}`"
                    ),
                )),
                Some(Ok(uri)) => {
                    let name = uri.fragment().unwrap_or_default().to_owned();
                    let resource = without_fragment(&uri);
                    // `"$id": "#name"` names the schema within its resource; any other `$id`
                    // starts a resource of its own.
                    if !value.as_str().unwrap_or_default().starts_with('#') {
                        base = resource.clone();
                        self.resource(&resource, pointer, &at, problems);
                    }
                    if !name.is_empty() {
                        self.anchor(&resource, name, pointer, &at, problems);
                    }
                }
            }
        }
        // `$dynamicAnchor` is also a plain anchor, which a `$ref` reaches like `$anchor`'s.
        for keyword in [Keyword::Anchor, Keyword::DynamicAnchor] {
            let Some(value) = map.get(keyword.name()).filter(|_| !ignored) else {
                continue;
            };
            let at = pointer.join(keyword.name());
            match value.as_str() {
                Some(name) if is_anchor_name(name) => {
                    let resource = without_fragment(&base);
                    self.anchor(&resource, name.to_owned(), pointer, &at, problems);
                }
                _ => problems.push((
                    at,
                    format!(
                        "`{}` must be a name: a letter or `_`, then letters, digits, `-`, `.` or `_`",
                        keyword.name()
                    ),
                )),
            }
        }
        base
    }

    fn resource(
        &mut self,
        uri: &Url,
        pointer: &Pointer,
        at: &Pointer,
        problems: &mut Vec<Problem>,
    ) {
        let earlier = self
            .resources
            .insert(uri.as_str().to_owned(), pointer.clone());
        if let Some(earlier) = earlier
            && earlier != *pointer
        {
            problems.push((
                at.clone(),
                format!("`{uri}` is already the identifier of {}", place(&earlier)),
            ));
        }
    }

    fn anchor(
        &mut self,
        resource: &Url,
        name: String,
        pointer: &Pointer,
        at: &Pointer,
        problems: &mut Vec<Problem>,
    ) {
        let key = (resource.as_str().to_owned(), name);
        if let Some(earlier) = self.anchors.insert(key.clone(), pointer.clone())
            && earlier != *pointer
        {
            problems.push((
                at.clone(),
                format!("the anchor `#{}` is already {}", key.1, place(&earlier)),
            ));
        }
    }

    /// Where the `$ref` `reference`, held by the schema at `holder`, points in the file.
    pub(crate) fn resolve(&self, holder: &Pointer, reference: &str) -> Result<Pointer, Unresolved> {
        let base = self.base(holder).ok_or(Unresolved::NotUri(None))?;
        let uri = base.join(reference).map_err(|_| {
            // The file's own base is nobody's to read: only a base an `$id` set is named.
            let named = base.as_str() != FILE_BASE;
            Unresolved::NotUri(named.then(|| base.to_string()))
        })?;
        let resource = without_fragment(&uri);
        let start = self
            .resources
            .get(resource.as_str())
            .ok_or(Unresolved::Remote)?;
        match fragment(uri.fragment().unwrap_or_default()).map_err(Unresolved::Fragment)? {
            Fragment::Pointer(tokens) => Ok(tokens
                .iter()
                .fold(start.clone(), |pointer, token| pointer.join(token))),
            Fragment::Name(name) => self
                .anchors
                .get(&(resource.as_str().to_owned(), name.clone()))
                .cloned()
                .ok_or(Unresolved::Name(name)),
        }
    }

    /// The base URI at `pointer`: its own, or (for a place that is not a schema the walk
    /// reached) that of the nearest schema holding it.
    fn base(&self, pointer: &Pointer) -> Option<&Url> {
        let mut at = pointer.as_str();
        loop {
            if let Some(base) = self.bases.get(at) {
                return Some(base);
            }
            at = &at[..at.rfind('/')?];
        }
    }
}

/// `the root schema`, `the schema at /a/b`.
fn place(pointer: &Pointer) -> String {
    if pointer.as_str().is_empty() {
        "the root schema".to_owned()
    } else {
        format!("the schema at `{pointer}`")
    }
}

fn without_fragment(uri: &Url) -> Url {
    let mut uri = uri.clone();
    uri.set_fragment(None);
    uri
}

/// An anchor is an XML name without colons (draft 2019-09 and 2020-12).
fn is_anchor_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}
