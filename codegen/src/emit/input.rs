//! Input structs: their fields with the serde attributes that keep decoding exact, the
//! constructor, setters and accessors, and how validation sees them.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::{doc_attrs, schema_text};
use crate::ir::{CrossRule, EnumRepr, Field, Model, RustType, Struct};

/// The Rust type of a value.
pub(crate) fn rust_type(model: &Model, ty: &RustType) -> TokenStream {
    match ty {
        RustType::String => quote!(String),
        RustType::Integer => quote!(Integer),
        RustType::Number => quote!(Number),
        RustType::Boolean => quote!(bool),
        RustType::Media => quote!(Media),
        RustType::Json => quote!(serde_json::Value),
        RustType::JsonObject => quote!(serde_json::Map<String, serde_json::Value>),
        RustType::Vec(item) => {
            let item = rust_type(model, item);
            quote!(Vec<#item>)
        }
        RustType::Nullable(inner) => {
            let inner = rust_type(model, inner);
            quote!(Option<#inner>)
        }
        RustType::Struct(i) => named(&model.structs[*i].name),
        RustType::Enum(i) => named(&model.enums[*i].name),
        RustType::Union(i) => named(&model.unions[*i].name),
    }
}

fn named(name: &str) -> TokenStream {
    let ident = format_ident!("{name}");
    quote!(#ident)
}

/// A struct and its methods; for the input, `marker` is the model it belongs to.
pub(crate) fn structure(model: &Model, s: &Struct, marker: Option<&str>) -> TokenStream {
    let name = format_ident!("{}", s.name);
    let docs = doc_attrs(&struct_docs(model, s, marker.is_some()));
    let fields = s.fields.iter().map(|f| field_def(model, f));
    let serde = if s.closed {
        quote!(#[serde(remote = "Self", deny_unknown_fields)])
    } else {
        quote!(#[serde(remote = "Self")])
    };
    let extra = s.extra.as_ref().map(|extra| {
        let extra = format_ident!("{extra}");
        quote! {
            /// Properties not listed above, kept as they came; validation decides which are
            /// taken (`additionalProperties`, `patternProperties`, or a branch that names them).
            #[serde(flatten)]
            pub #extra: serde_json::Map<String, serde_json::Value>,
        }
    });
    let methods = methods(model, s);
    let entries = entries(s);
    let input_impl = marker.map(|marker| {
        let marker = format_ident!("{marker}");
        quote! {
            impl crate::Input for #name {
                type Model = #marker;
            }
        }
    });
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #serde
        #[non_exhaustive]
        pub struct #name {
            #(#fields)*
            #extra
        }

        crate::object_serde!(#name);

        #methods
        #input_impl

        impl Instance for #name {
            fn view(&self) -> View<'_> {
                View::Object(self)
            }
        }

        impl Object for #name {
            fn entries(&self) -> Vec<(&str, &dyn Instance)> {
                #entries
            }
        }
    }
}

fn struct_docs(model: &Model, s: &Struct, top: bool) -> Vec<String> {
    if top {
        let mut docs = vec![
            format!("The input of `{}`.", model.id),
            "Build it with [`Self::new`] from the required fields, then the `with_*` methods; [`crate::Input::validate`] checks it before anything is sent. Unset optional fields are omitted from the request, so the server applies its defaults (the accessors return them).".to_owned(),
        ];
        // Rules across fields are checked as each field's own are, so they are said as theirs
        // are (QA repro44 F10: a `new` that always failed its check, and no doc said why).
        if !model.rules.is_empty() {
            let rules: Vec<String> = model.rules.iter().map(rule_doc).collect();
            docs.push(format!(
                "Across fields, it also checks:\n{}",
                rules.join("\n")
            ));
        }
        return docs;
    }
    let mut docs = s.docs.clone();
    if docs.is_empty() {
        docs.push(format!("An object in the input of `{}`.", model.id));
    }
    docs
}

/// A rule across fields as a list item: its message, and whether it only warns.
fn rule_doc(rule: &CrossRule) -> String {
    let (message, warns) = match rule {
        CrossRule::MaxTotal { message, .. }
        | CrossRule::AtLeastOne { message, .. }
        | CrossRule::AtMostOne { message, .. } => (message, false),
        CrossRule::PromptCount { message, .. } => (message, true),
    };
    let mut message = schema_text(message.trim());
    if !message.ends_with(['.', '!', '?']) {
        message.push('.');
    }
    match warns {
        true => format!("- {message} (A warning: the input is still sent.)"),
        false => format!("- {message}"),
    }
}

/// `new`, the setters and the accessors.
fn methods(model: &Model, s: &Struct) -> TokenStream {
    let name = format_ident!("{}", s.name);
    let fixed: Vec<(&Field, TokenStream)> = s
        .fields
        .iter()
        .filter_map(|f| Some((f, fixed_value(model, f)?)))
        .collect();
    let is_fixed = |f: &Field| fixed.iter().any(|(g, _)| g.wire == f.wire);
    let required: Vec<&Field> = s
        .fields
        .iter()
        .filter(|f| f.required && !is_fixed(f))
        .collect();
    let params = required.iter().map(|f| {
        let ident = format_ident!("{}", f.ident);
        let ty = param_type(model, &f.ty);
        quote!(#ident: #ty)
    });
    let inits = s.fields.iter().map(|f| {
        let ident = format_ident!("{}", f.ident);
        if let Some((_, value)) = fixed.iter().find(|(g, _)| g.wire == f.wire) {
            return quote!(#ident: #value);
        }
        match (f.required, takes_into(&f.ty)) {
            (true, true) => quote!(#ident: #ident.into()),
            (true, false) => quote!(#ident),
            (false, _) => quote!(#ident: None),
        }
    });
    let extra_init = s.extra.as_ref().map(|extra| {
        let extra = format_ident!("{extra}");
        quote!(#extra: serde_json::Map::new(),)
    });
    let fixed_said: Vec<String> = fixed
        .iter()
        .filter_map(|(f, _)| Some(format!("`{}` is {:?}", f.wire, f.fixed.as_ref()?)))
        .collect();
    let mut new_doc = match (required.is_empty(), fixed.is_empty()) {
        (true, true) => {
            "Creates the value with every field unset (the server applies its defaults).".to_owned()
        }
        (true, false) => "Creates the value; optional fields are left unset.".to_owned(),
        (false, _) => {
            let names: Vec<String> = required.iter().map(|f| format!("`{}`", f.wire)).collect();
            format!(
                "Creates the value from its required fields ({}); optional fields are left unset.",
                names.join(", ")
            )
        }
    };
    if !fixed_said.is_empty() {
        new_doc.push_str(&format!(
            " {}, the only value allowed.",
            fixed_said.join(", ")
        ));
    }
    let new_doc = doc_attrs(&[new_doc]);
    let many_arguments = (required.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let setters = s
        .fields
        .iter()
        .filter(|f| !f.required)
        .map(|f| setter(model, f));
    let accessors = s.fields.iter().filter_map(|f| accessor(model, f));
    let default_impl = required.is_empty().then(|| {
        quote! {
            impl Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    });
    quote! {
        impl #name {
            #new_doc
            #many_arguments
            pub fn new(#(#params),*) -> Self {
                Self {
                    #(#inits,)*
                    #extra_init
                }
            }

            #(#setters)*
            #(#accessors)*
        }

        #default_impl
    }
}

/// What `new` sets a required field with one allowed text to: the text, or its enum's one
/// variant. `None` for a field `new` asks for.
fn fixed_value(model: &Model, f: &Field) -> Option<TokenStream> {
    let text = f.fixed.as_deref()?;
    match &f.ty {
        RustType::String => Some(quote!(#text.to_owned())),
        RustType::Enum(i) => {
            let e = &model.enums[*i];
            let variant = e.variants.iter().find(|v| v.wire == text)?;
            let (name, variant) = (
                format_ident!("{}", e.name),
                format_ident!("{}", variant.name),
            );
            Some(quote!(#name::#variant))
        }
        _ => None,
    }
}

/// Whether a parameter of this type takes `impl Into<T>`.
fn takes_into(ty: &RustType) -> bool {
    matches!(
        ty,
        RustType::String | RustType::Media | RustType::Integer | RustType::Number
    )
}

fn param_type(model: &Model, ty: &RustType) -> TokenStream {
    let inner = rust_type(model, ty);
    if takes_into(ty) {
        quote!(impl Into<#inner>)
    } else {
        inner
    }
}

fn field_def(model: &Model, f: &Field) -> TokenStream {
    let ident = format_ident!("{}", f.ident);
    let docs: Vec<String> = f.docs.iter().map(|d| model.link_names(d)).collect();
    let docs = doc_attrs(&docs);
    let mut serde = Vec::new();
    if f.ident != f.wire {
        let wire = &f.wire;
        serde.push(quote!(rename = #wire));
    }
    let value = rust_type(model, &f.ty);
    let nullable = matches!(f.ty, RustType::Nullable(_));
    // Decoding must give back exactly the JSON it read: `null` is a value only where the schema
    // allows it, and a required field is never read as absent.
    let ty = match (f.required, nullable) {
        (true, false) => value,
        (true, true) => {
            serde.push(quote!(deserialize_with = "crate::input::required_nullable"));
            value
        }
        (false, _) => {
            let read = if nullable {
                "crate::input::nullable"
            } else {
                "crate::input::present"
            };
            serde.push(
                quote!(default, skip_serializing_if = "Option::is_none", deserialize_with = #read),
            );
            quote!(Option<#value>)
        }
    };
    let serde = (!serde.is_empty()).then(|| quote!(#[serde(#(#serde),*)]));
    quote! {
        #docs
        #serde
        pub #ident: #ty,
    }
}

fn setter(model: &Model, f: &Field) -> TokenStream {
    let ident = format_ident!("{}", f.ident);
    let method = format_ident!("{}", f.setter);
    let doc = doc_attrs(&[format!("Sets `{}`.", f.wire)]);
    let (ty, value) = if matches!(f.ty, RustType::Nullable(_)) {
        (rust_type(model, &f.ty), quote!(value))
    } else if takes_into(&f.ty) {
        (param_type(model, &f.ty), quote!(value.into()))
    } else {
        (rust_type(model, &f.ty), quote!(value))
    };
    quote! {
        #doc
        pub fn #method(mut self, value: #ty) -> Self {
            self.#ident = Some(#value);
            self
        }
    }
}

/// For an optional field with a default: a method returning the value in effect.
fn accessor(model: &Model, f: &Field) -> Option<TokenStream> {
    let method = format_ident!("{}", f.accessor.as_ref()?);
    let default = f.default.as_ref()?;
    let ident = format_ident!("{}", f.ident);
    let doc = doc_attrs(&[format!(
        "`{}` as it takes effect: the value set, or the schema's default.",
        f.wire
    )]);
    let (ty, body) = match (&f.ty, default) {
        (RustType::String, Value::String(s)) => {
            (quote!(&str), quote!(self.#ident.as_deref().unwrap_or(#s)))
        }
        (RustType::Integer, Value::Number(n)) => {
            let n = integer_literal(n)?;
            (
                quote!(Integer),
                quote!(self.#ident.unwrap_or(Integer::from(#n))),
            )
        }
        (RustType::Number, Value::Number(n)) => {
            let n = number_expr(n);
            (quote!(Number), quote!(self.#ident.unwrap_or(#n)))
        }
        (RustType::Boolean, Value::Bool(b)) => (quote!(bool), quote!(self.#ident.unwrap_or(#b))),
        (RustType::Enum(i), v) => {
            let e = &model.enums[*i];
            let wire = match (e.repr, v) {
                (EnumRepr::String, Value::String(s)) => s.clone(),
                (EnumRepr::Integer, Value::Number(n)) => n.as_i64()?.to_string(),
                _ => return None,
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
        pub fn #method(&self) -> #ty {
            #body
        }
    })
}

fn integer_literal(n: &serde_json::Number) -> Option<Literal> {
    n.as_i64()
        .map(Literal::i64_suffixed)
        .or_else(|| n.as_u64().map(Literal::u64_suffixed))
}

/// A `Number` constant in the form the default is written.
fn number_expr(n: &serde_json::Number) -> TokenStream {
    if let Some(i) = n.as_i64() {
        let i = Literal::i64_unsuffixed(i);
        quote!(Number::from_i64(#i))
    } else {
        let f = Literal::f64_unsuffixed(n.as_f64().unwrap_or_default());
        quote!(Number::from_f64(#f))
    }
}

/// The body of `Object::entries`: each field present, then the other properties.
fn entries(s: &Struct) -> TokenStream {
    let items = s.fields.iter().map(|f| {
        let ident = format_ident!("{}", f.ident);
        let wire = &f.wire;
        if f.required {
            quote!((#wire, field(&self.#ident)))
        } else {
            quote!((#wire, optional(&self.#ident)))
        }
    });
    let extra = match &s.extra {
        Some(extra) => {
            let extra = format_ident!("{extra}");
            quote!(Some(&self.#extra))
        }
        None => quote!(None),
    };
    quote!(entries([#(#items),*], #extra))
}
