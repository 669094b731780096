//! Input structs: fields with serde and schemars attributes, constructor, setters, default
//! accessors, and the `validate()` code.

use heck::ToShoutySnakeCase;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{doc_attrs, schema_text};
use crate::ir::{CrossRule, EnumRepr, Field, MediaKind, MediaSpec, Model, Struct, Type};
use crate::lower::media_of;

/// Method names an accessor must not take.
const RESERVED_METHODS: &[&str] = &["new", "validate", "check"];

/// The Rust type of a value.
pub(crate) fn rust_type(model: &Model, ty: &Type) -> TokenStream {
    match ty {
        Type::String { .. } | Type::Uri => quote!(String),
        Type::Media(_) => quote!(Media),
        Type::Integer { .. } => quote!(i64),
        Type::Number { .. } => quote!(f64),
        Type::Boolean => quote!(bool),
        Type::Enum(i) => {
            let name = format_ident!("{}", model.enums[*i].name);
            quote!(#name)
        }
        Type::Array { items, .. } => {
            let items = rust_type(model, items);
            quote!(Vec<#items>)
        }
        Type::Struct(i) => {
            let name = format_ident!("{}", model.structs[*i].name);
            quote!(#name)
        }
        Type::Json => quote!(serde_json::Value),
    }
}

/// The name of the constant holding a media field's spec.
fn media_const(owner: &Struct, top: bool, field: &Field) -> proc_macro2::Ident {
    if top {
        format_ident!(
            "{}_MEDIA",
            field.ident.trim_end_matches('_').to_shouty_snake_case()
        )
    } else {
        format_ident!(
            "{}_{}_MEDIA",
            owner.name.to_shouty_snake_case(),
            field.ident.trim_end_matches('_').to_shouty_snake_case()
        )
    }
}

/// The `MediaSpec` constants of every media field of the model.
pub(crate) fn media_specs(model: &Model) -> TokenStream {
    let owners =
        std::iter::once((&model.input, true)).chain(model.structs.iter().map(|s| (s, false)));
    let mut out = TokenStream::new();
    for (owner, top) in owners {
        for field in &owner.fields {
            if let Some(spec) = media_of(&field.ty) {
                let name = media_const(owner, top, field);
                let value = media_spec(spec);
                let doc = doc_attrs(&[format!("What `{}` accepts.", field.wire)]);
                out.extend(quote! {
                    #doc
                    const #name: &MediaSpec = &#value;
                });
            }
        }
    }
    out
}

fn media_spec(spec: &MediaSpec) -> TokenStream {
    let kind = match spec.kind {
        MediaKind::Image => quote!(Image),
        MediaKind::Video => quote!(Video),
        MediaKind::Audio => quote!(Audio),
    };
    let formats = spec.formats.iter().map(|f| {
        let variant = format_ident!(
            "{}",
            heck::ToUpperCamelCase::to_upper_camel_case(f.as_str())
        );
        quote!(MediaFormat::#variant)
    });
    let rules = spec.rules.iter().map(|rule| {
        let check = format_ident!("{}", rule.check.variant());
        let value = Literal::f64_unsuffixed(rule.value);
        let message = &rule.message;
        quote! {
            MediaRule {
                check: MediaCheck::#check,
                value: #value,
                message: #message,
            }
        }
    });
    quote! {
        MediaSpec {
            kind: MediaKind::#kind,
            formats: &[#(#formats),*],
            rules: &[#(#rules),*],
        }
    }
}

/// A struct, its inherent methods, and its validation.
pub(crate) fn structure(model: &Model, s: &Struct, top: bool) -> TokenStream {
    let name = format_ident!("{}", s.name);
    let mut docs = Vec::new();
    if top {
        docs.push(format!("The input of `{}`.", model.id));
        docs.push("Build it with [`Self::new`] from the required fields, then the `with_*` methods; [`crate::Input::validate`] checks it before anything is sent. Unset optional fields are omitted from the request, so the server applies its defaults (the accessors return them).".to_owned());
    } else {
        docs.extend(s.docs.iter().map(|d| schema_text(d)));
        if docs.is_empty() {
            docs.push(format!("A nested object of the input of `{}`.", model.id));
        }
    }
    let docs = doc_attrs(&docs);
    let fields = s.fields.iter().map(|f| field_def(model, f));
    let required: Vec<&Field> = s.fields.iter().filter(|f| f.required).collect();
    let params = required.iter().map(|f| {
        let ident = format_ident!("{}", f.ident);
        let ty = param_type(model, &f.ty);
        quote!(#ident: #ty)
    });
    let inits = s.fields.iter().map(|f| {
        let ident = format_ident!("{}", f.ident);
        if f.required {
            if into_param(&f.ty) {
                quote!(#ident: #ident.into())
            } else {
                quote!(#ident)
            }
        } else {
            quote!(#ident: None)
        }
    });
    let new_doc = if required.is_empty() {
        "Creates an input with every field unset (the server applies its defaults).".to_owned()
    } else {
        let names: Vec<String> = required.iter().map(|f| format!("`{}`", f.wire)).collect();
        format!(
            "Creates the input from its required fields ({}); optional fields are left unset.",
            names.join(", ")
        )
    };
    let new_doc = doc_attrs(&[new_doc]);
    let default_impl = required.is_empty().then(|| {
        quote! {
            impl Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    });
    let setters = s
        .fields
        .iter()
        .filter(|f| !f.required)
        .map(|f| setter(model, f));
    let accessors = s
        .fields
        .iter()
        .filter(|f| !f.required)
        .filter_map(|f| accessor(model, f));
    let validation = if top {
        let body = checks(s, true);
        let rules = cross_rules(model);
        let validate = if body.is_empty() && rules.is_empty() {
            quote! {
                // Every field is fully described by its type: nothing to check.
                ValidationReport::new()
            }
        } else {
            quote! {
                let mut report = ValidationReport::new();
                #body
                #rules
                report
            }
        };
        quote! {
            impl crate::Input for #name {
                fn validate(&self) -> ValidationReport {
                    #validate
                }
            }
        }
    } else {
        let body = checks(s, false);
        let unused = body.is_empty().then(|| quote!(let _ = (report, path);));
        quote! {
            impl #name {
                /// Adds the problems of this object, found at `path`, to `report`.
                pub fn check(&self, report: &mut ValidationReport, path: &str) {
                    #unused
                    #body
                }
            }
        }
    };
    let constructor_attr = (!required.is_empty() && required.len() > 7)
        .then(|| quote!(#[allow(clippy::too_many_arguments)]));
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        #[non_exhaustive]
        pub struct #name {
            #(#fields)*
        }

        impl #name {
            #new_doc
            #constructor_attr
            pub fn new(#(#params),*) -> Self {
                Self {
                    #(#inits),*
                }
            }

            #(#setters)*
            #(#accessors)*
        }

        #default_impl
        #validation
    }
}

fn into_param(ty: &Type) -> bool {
    matches!(ty, Type::String { .. } | Type::Uri | Type::Media(_))
}

fn param_type(model: &Model, ty: &Type) -> TokenStream {
    match ty {
        Type::String { .. } | Type::Uri => quote!(impl Into<String>),
        Type::Media(_) => quote!(impl Into<Media>),
        _ => rust_type(model, ty),
    }
}

fn field_docs(model: &Model, f: &Field) -> Vec<String> {
    let mut docs = Vec::new();
    if let Some(title) = &f.title {
        docs.push(format!("{}.", schema_text(title.trim_end_matches('.'))));
    }
    if let Some(description) = &f.description {
        docs.push(schema_text(description));
    }
    if docs.is_empty() {
        docs.push(format!("The `{}` field.", f.wire));
    }
    let mut facts = Vec::new();
    facts.push(if f.required {
        "Required.".to_owned()
    } else {
        "Optional.".to_owned()
    });
    if let Some(c) = constraints(&f.ty) {
        facts.push(c);
    }
    if let Some(media) = media_of(&f.ty) {
        if !media.formats.is_empty() {
            facts.push(format!("Formats: {}.", media.formats.join(", ")));
        }
        for rule in &media.rules {
            let message = schema_text(&rule.message);
            if !facts.contains(&message) {
                facts.push(message);
            }
        }
    }
    if let Some(default) = &f.default {
        let shown = match (&f.ty, default) {
            (Type::Enum(i), serde_json::Value::String(s)) => {
                let e = &model.enums[*i];
                match e.variants.iter().find(|v| v.wire == *s) {
                    Some(v) => format!("[`{}::{}`] (`{s}`)", e.name, v.name),
                    None => format!("`{s}`"),
                }
            }
            (Type::Enum(i), other) => {
                let e = &model.enums[*i];
                let wire = other.to_string();
                match e.variants.iter().find(|v| v.wire == wire) {
                    Some(v) => format!("[`{}::{}`] (`{wire}`)", e.name, v.name),
                    None => format!("`{wire}`"),
                }
            }
            (_, serde_json::Value::String(s)) => format!("`{s:?}`"),
            (_, other) => format!("`{other}`"),
        };
        facts.push(format!("Default: {shown}."));
    }
    docs.push(facts.join(" "));
    docs
}

fn constraints(ty: &Type) -> Option<String> {
    let range = |min: Option<String>, max: Option<String>, unit: &str| match (min, max) {
        (Some(a), Some(b)) => Some(format!("{a} to {b}{unit}.")),
        (Some(a), None) => Some(format!("At least {a}{unit}.")),
        (None, Some(b)) => Some(format!("At most {b}{unit}.")),
        (None, None) => None,
    };
    match ty {
        Type::String {
            min_length,
            max_length,
        } => range(
            min_length.map(|n| n.to_string()),
            max_length.map(|n| n.to_string()),
            " characters",
        ),
        Type::Integer { minimum, maximum } | Type::Number { minimum, maximum } => range(
            minimum.map(|n| n.to_string()),
            maximum.map(|n| n.to_string()),
            "",
        ),
        Type::Array {
            min_items,
            max_items,
            ..
        } => range(
            min_items.map(|n| n.to_string()),
            max_items.map(|n| n.to_string()),
            " items",
        ),
        Type::Uri => Some("An http(s) URL.".to_owned()),
        Type::Media(_) => Some("An https URL, a `data:` URI, a local file or bytes.".to_owned()),
        _ => None,
    }
}

fn field_def(model: &Model, f: &Field) -> TokenStream {
    let ident = format_ident!("{}", f.ident);
    let docs = doc_attrs(&field_docs(model, f));
    let rename = (f.ident != f.wire).then(|| {
        let wire = &f.wire;
        quote!(#[serde(rename = #wire)])
    });
    let inner = rust_type(model, &f.ty);
    let (ty, serde) = if f.required && !f.nullable {
        (inner, None)
    } else if f.required {
        // Required but nullable: always sent, `null` when unset.
        (quote!(Option<#inner>), None)
    } else {
        (
            quote!(Option<#inner>),
            Some(quote!(#[serde(default, skip_serializing_if = "Option::is_none")])),
        )
    };
    let schemars = schemars_attr(&f.ty);
    quote! {
        #docs
        #rename
        #serde
        #schemars
        pub #ident: #ty,
    }
}

fn schemars_attr(ty: &Type) -> Option<TokenStream> {
    let opt = |v: Option<u64>| v.map(Literal::u64_unsuffixed);
    let optf = |v: Option<f64>| v.map(Literal::f64_unsuffixed);
    match ty {
        Type::String {
            min_length,
            max_length,
        } => length_attr(opt(*min_length), opt(*max_length)),
        Type::Array {
            min_items,
            max_items,
            ..
        } => length_attr(opt(*min_items), opt(*max_items)),
        Type::Integer { minimum, maximum } | Type::Number { minimum, maximum } => {
            let parts: Vec<TokenStream> = [("min", optf(*minimum)), ("max", optf(*maximum))]
                .into_iter()
                .filter_map(|(k, v)| {
                    let k = format_ident!("{k}");
                    v.map(|v| quote!(#k = #v))
                })
                .collect();
            (!parts.is_empty()).then(|| quote!(#[schemars(range(#(#parts),*))]))
        }
        _ => None,
    }
}

fn length_attr(min: Option<Literal>, max: Option<Literal>) -> Option<TokenStream> {
    let parts: Vec<TokenStream> = [min.map(|v| quote!(min = #v)), max.map(|v| quote!(max = #v))]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| quote!(#[schemars(length(#(#parts),*))]))
}

fn setter(model: &Model, f: &Field) -> TokenStream {
    let ident = format_ident!("{}", f.ident);
    let method = format_ident!("with_{}", f.ident.trim_end_matches('_'));
    let doc = doc_attrs(&[format!("Sets `{}`.", f.wire)]);
    let ty = param_type(model, &f.ty);
    let value = if into_param(&f.ty) {
        quote!(value.into())
    } else {
        quote!(value)
    };
    quote! {
        #doc
        pub fn #method(mut self, value: #ty) -> Self {
            self.#ident = Some(#value);
            self
        }
    }
}

/// For an optional field with a scalar default: a method returning the value in effect.
fn accessor(model: &Model, f: &Field) -> Option<TokenStream> {
    let default = f.default.as_ref()?;
    if RESERVED_METHODS.contains(&f.ident.as_str()) {
        return None;
    }
    let ident = format_ident!("{}", f.ident);
    let doc = doc_attrs(&[format!(
        "`{}` as it takes effect: the value set, or the schema's default.",
        f.wire
    )]);
    let (ty, body) = match (&f.ty, default) {
        (Type::String { .. } | Type::Uri, serde_json::Value::String(s)) => {
            (quote!(&str), quote!(self.#ident.as_deref().unwrap_or(#s)))
        }
        (Type::Integer { .. }, v) => {
            let n = Literal::i64_unsuffixed(v.as_i64()?);
            (quote!(i64), quote!(self.#ident.unwrap_or(#n)))
        }
        (Type::Number { .. }, v) => {
            let n = Literal::f64_unsuffixed(v.as_f64()?);
            (quote!(f64), quote!(self.#ident.unwrap_or(#n)))
        }
        (Type::Boolean, serde_json::Value::Bool(b)) => {
            (quote!(bool), quote!(self.#ident.unwrap_or(#b)))
        }
        (Type::Enum(i), v) => {
            let e = &model.enums[*i];
            let wire = match v {
                serde_json::Value::String(s) if e.repr == EnumRepr::String => s.clone(),
                serde_json::Value::String(s) => s.trim().to_owned(),
                other => other.to_string(),
            };
            let variant = e.variants.iter().find(|v| v.wire == wire)?;
            let name = format_ident!("{}", e.name);
            let variant = format_ident!("{}", variant.name);
            (
                quote!(#name),
                quote!(self.#ident.unwrap_or(#name::#variant)),
            )
        }
        _ => return None,
    };
    Some(quote! {
        #doc
        pub fn #ident(&self) -> #ty {
            #body
        }
    })
}

/// How a value is reached: a field of `self`, or a binding holding a reference.
struct Value {
    /// An expression of type `&T`.
    by_ref: TokenStream,
    /// An expression usable as a method receiver.
    recv: TokenStream,
    /// An expression of type `T` for `Copy` values.
    copied: TokenStream,
}

/// A field path: a literal (`"images"`), or a `format!` string whose placeholders are all
/// locals (`"images[{i}]"`, `"{path}.scale"`).
enum Path {
    Literal(String),
    Format(String),
}

impl Path {
    fn as_arg(&self) -> TokenStream {
        match self {
            Path::Literal(s) => quote!(#s),
            Path::Format(f) => quote!(&format!(#f)),
        }
    }

    fn item(&self, index: &proc_macro2::Ident) -> Path {
        match self {
            Path::Literal(s) | Path::Format(s) => Path::Format(format!("{s}[{{{index}}}]")),
        }
    }
}

/// The checks of every field of a struct.
fn checks(s: &Struct, top: bool) -> TokenStream {
    let mut out = TokenStream::new();
    for f in &s.fields {
        let ident = format_ident!("{}", f.ident);
        let path = if top {
            Path::Literal(f.wire.clone())
        } else {
            Path::Format(format!(
                "{{path}}.{}",
                f.wire.replace('{', "{{").replace('}', "}}")
            ))
        };
        let media = media_const(s, top, f);
        if f.required && !f.nullable {
            let value = Value {
                by_ref: quote!(&self.#ident),
                recv: quote!(self.#ident),
                copied: quote!(self.#ident),
            };
            out.extend(value_checks(&f.ty, &value, &path, &media, 0, top));
        } else {
            let value = Value {
                by_ref: quote!(#ident),
                recv: quote!(#ident),
                copied: quote!(*#ident),
            };
            let inner = value_checks(&f.ty, &value, &path, &media, 0, top);
            if !inner.is_empty() {
                out.extend(quote! {
                    if let Some(#ident) = &self.#ident {
                        #inner
                    }
                });
            }
        }
    }
    out
}

fn value_checks(
    ty: &Type,
    value: &Value,
    path: &Path,
    media: &proc_macro2::Ident,
    depth: usize,
    top: bool,
) -> TokenStream {
    let opt_u = |v: &Option<u64>| match v {
        Some(n) => {
            let n = Literal::u64_unsuffixed(*n);
            quote!(Some(#n))
        }
        None => quote!(None),
    };
    let opt_f = |v: &Option<f64>| match v {
        Some(n) => {
            let n = Literal::f64_unsuffixed(*n);
            quote!(Some(#n))
        }
        None => quote!(None),
    };
    let arg = path.as_arg();
    let Value {
        by_ref,
        recv,
        copied,
    } = value;
    match ty {
        Type::String {
            min_length,
            max_length,
        } if min_length.is_some() || max_length.is_some() => {
            let (min, max) = (opt_u(min_length), opt_u(max_length));
            quote!(report.check_length(#arg, #by_ref, #min, #max);)
        }
        Type::Uri => quote!(report.check_uri(#arg, #by_ref);),
        Type::Media(_) => quote!(report.check_media(#arg, #by_ref, #media);),
        Type::Integer { minimum, maximum } if minimum.is_some() || maximum.is_some() => {
            let (min, max) = (opt_f(minimum), opt_f(maximum));
            quote!(report.check_range(#arg, #copied as f64, #min, #max);)
        }
        Type::Number { minimum, maximum } if minimum.is_some() || maximum.is_some() => {
            let (min, max) = (opt_f(minimum), opt_f(maximum));
            quote!(report.check_range(#arg, #copied, #min, #max);)
        }
        Type::Array {
            items,
            min_items,
            max_items,
        } => {
            let mut out = TokenStream::new();
            if min_items.is_some() || max_items.is_some() {
                let (min, max) = (opt_u(min_items), opt_u(max_items));
                out.extend(quote!(report.check_items(#arg, #recv.len(), #min, #max);));
            }
            let index = format_ident!(
                "{}",
                ["i", "j", "k", "l", "m"].get(depth).copied().unwrap_or("n")
            );
            let item = format_ident!(
                "item{}",
                if depth == 0 {
                    String::new()
                } else {
                    depth.to_string()
                }
            );
            let item_value = Value {
                by_ref: quote!(#item),
                recv: quote!(#item),
                copied: quote!(*#item),
            };
            let inner = value_checks(
                items,
                &item_value,
                &path.item(&index),
                media,
                depth + 1,
                top,
            );
            if !inner.is_empty() {
                out.extend(quote! {
                    for (#index, #item) in #recv.iter().enumerate() {
                        #inner
                    }
                });
            }
            out
        }
        // `report` is a local in `validate` and a `&mut` parameter in nested `check`s.
        Type::Struct(_) if top => quote!(#recv.check(&mut report, #arg);),
        Type::Struct(_) => quote!(#recv.check(report, #arg);),
        _ => TokenStream::new(),
    }
}

/// Overlay rules across fields; they read values in effect (defaults included).
fn cross_rules(model: &Model) -> TokenStream {
    let mut out = TokenStream::new();
    for rule in &model.rules {
        match rule {
            CrossRule::MaxTotal {
                fields,
                max,
                message,
            } => {
                let terms = fields
                    .iter()
                    .map(|&i| count_expr(model, &model.input.fields[i]));
                let path = fields
                    .iter()
                    .map(|&i| model.input.fields[i].wire.as_str())
                    .collect::<Vec<_>>()
                    .join(" + ");
                let max = Literal::i64_unsuffixed(*max);
                out.extend(quote! {
                    let total = #(#terms)+*;
                    report.check_total(#path, total, #max, #message);
                });
            }
            CrossRule::PromptCount {
                prompt,
                count,
                message,
            } => {
                let prompt_field = &model.input.fields[*prompt];
                let count = count_expr(model, &model.input.fields[*count]);
                let ident = format_ident!("{}", prompt_field.ident);
                let path = &prompt_field.wire;
                let has_accessor = prompt_field.default.as_ref().is_some_and(|d| d.is_string())
                    && !RESERVED_METHODS.contains(&prompt_field.ident.as_str());
                out.extend(if prompt_field.required {
                    quote!(report.check_prompt_count(#path, &self.#ident, #count, #message);)
                } else if has_accessor {
                    quote!(report.check_prompt_count(#path, self.#ident(), #count, #message);)
                } else {
                    quote! {
                        if let Some(#ident) = &self.#ident {
                            report.check_prompt_count(#path, #ident, #count, #message);
                        }
                    }
                });
            }
        }
    }
    out
}

/// An `i64` expression: the item count of an array, or the value of an integer, in effect.
fn count_expr(model: &Model, f: &Field) -> TokenStream {
    let ident = format_ident!("{}", f.ident);
    let has_accessor = f.default.is_some() && !RESERVED_METHODS.contains(&f.ident.as_str());
    match &f.ty {
        Type::Array { .. } if f.required && !f.nullable => quote!(self.#ident.len() as i64),
        Type::Array { .. } => quote!(self.#ident.as_ref().map_or(0, Vec::len) as i64),
        Type::Enum(i) => {
            let name = format_ident!("{}", model.enums[*i].name);
            if f.required && !f.nullable {
                quote!(self.#ident.value())
            } else if has_accessor {
                quote!(self.#ident().value())
            } else {
                quote!(self.#ident.map_or(0, #name::value))
            }
        }
        _ if f.required && !f.nullable => quote!(self.#ident),
        _ if has_accessor => quote!(self.#ident()),
        _ => quote!(self.#ident.unwrap_or(0)),
    }
}
