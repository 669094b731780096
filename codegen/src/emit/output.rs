//! Output types: lenient structs (every property optional) that list their file URLs.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{doc_attrs, schema_text};
use crate::ir::{OutputField, OutputKind, OutputType};

/// The most models an output type's docs name one by one.
const MOST_USERS_NAMED: usize = 6;

/// An output type: the struct, its `FIELDS` for the runtime catalog, and the files it lists.
pub(crate) fn output(o: &OutputType) -> TokenStream {
    let name = format_ident!("{}", o.name);
    let mut docs = o.docs.clone();
    // A few models are worth naming; dozens are a wall of ids that grows with the catalog
    // (QA repro44 F12), and each model's `Output` names its type anyway.
    docs.push(match o.users.len() {
        ..=MOST_USERS_NAMED => {
            let users: Vec<String> = o.users.iter().map(|id| format!("`{id}`")).collect();
            format!("Used by {}.", users.join(", "))
        }
        n => format!("Used by {n} models."),
    });
    docs.push("Every property is optional: a reply missing one still parses, and properties the schema does not list are kept in the extra map.".to_owned());
    let docs = doc_attrs(&docs);
    let fields = o.fields.iter().map(field);
    let extra = format_ident!("{}", o.extra_ident);
    let pushes = o.fields.iter().filter_map(file_urls);
    let infos = o.fields.iter().map(field_info);
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct #name {
            #(#fields)*
            /// Properties the schema does not list, kept as they came.
            #[serde(flatten)]
            pub #extra: serde_json::Map<String, serde_json::Value>,
        }

        impl #name {
            /// The output properties, as the runtime catalog lists them.
            pub const FIELDS: &'static [OutputField] = &[#(#infos),*];
        }

        impl crate::Output for #name {
            fn files(&self) -> Vec<OutputFile<'_>> {
                let mut files = Vec::new();
                #(#pushes)*
                push_extra_urls(&mut files, &self.#extra);
                files
            }
        }
    }
}

/// A struct field: optional, so that a reply missing it still parses (a list is empty).
fn field(f: &OutputField) -> TokenStream {
    let ident = format_ident!("{}", f.ident);
    let docs = doc_attrs(&[f
        .docs
        .as_deref()
        .map(schema_text)
        .unwrap_or_else(|| format!("The `{}` property.", f.wire))]);
    let rename = (f.ident != f.wire).then(|| {
        let wire = &f.wire;
        quote!(#[serde(rename = #wire)])
    });
    let (ty, serde) = match f.ty {
        OutputKind::StringList => (
            quote!(Vec<String>),
            quote!(#[serde(default, skip_serializing_if = "Vec::is_empty")]),
        ),
        kind => {
            let inner = match kind {
                OutputKind::String => quote!(String),
                OutputKind::Integer => quote!(i64),
                OutputKind::Number => quote!(f64),
                OutputKind::Boolean => quote!(bool),
                _ => quote!(serde_json::Value),
            };
            (
                quote!(Option<#inner>),
                quote!(#[serde(default, skip_serializing_if = "Option::is_none")]),
            )
        }
    };
    quote! {
        #docs
        #rename
        #serde
        pub #ident: #ty,
    }
}

/// What `files()` does with a field that may hold URLs: a string or a list of strings.
fn file_urls(f: &OutputField) -> Option<TokenStream> {
    let ident = format_ident!("{}", f.ident);
    let wire = &f.wire;
    match f.ty {
        OutputKind::String => Some(quote! {
            if let Some(url) = &self.#ident {
                push_url(&mut files, #wire, None, url);
            }
        }),
        OutputKind::StringList => Some(quote! {
            for (i, url) in self.#ident.iter().enumerate() {
                push_url(&mut files, #wire, Some(i), url);
            }
        }),
        _ => None,
    }
}

/// The field's entry in `FIELDS`, for the runtime catalog.
fn field_info(f: &OutputField) -> TokenStream {
    let wire = &f.wire;
    let description = match &f.docs {
        Some(d) => quote!(Some(#d)),
        None => quote!(None),
    };
    let list = f.ty == OutputKind::StringList;
    let files = file_urls(f).is_some();
    quote!(OutputField { name: #wire, description: #description, list: #list, files: #files })
}
