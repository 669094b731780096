//! Each model's entry in the runtime catalog (`INFO`): its names, its input's root schema, its
//! rules, what RunComfy says of it, and the one way to decode its JSON input.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{Catalog, CrossRule, Model, Price};

pub(crate) fn model_info(catalog: &Catalog, model: &Model) -> TokenStream {
    let id = &model.id;
    let display_name = &model.display_name;
    let docs = match model.docs.is_empty() {
        true => quote!(None),
        false => {
            let docs = model.docs.join("\n\n");
            quote!(Some(#docs))
        }
    };
    let input = format_ident!("{}", model.input_struct().name);
    let root = format_ident!("{}", model.node(model.root).name);
    let output = format_ident!("{}", catalog.outputs[model.output].name);
    let rules = model.rules.iter().map(cross_rule);
    let output_kind = match model.upstream.output_kind {
        Some(kind) => {
            let kind = format_ident!("{}", format!("{:?}", kind));
            quote!(Some(crate::schema::MediaKind::#kind))
        }
        None => quote!(None),
    };
    let categories = &model.upstream.categories;
    let output_published = model.upstream.output_published;
    let price = price(&model.upstream.price);
    let price_units = model.price_units.iter().map(|(name, unit)| {
        let unit = format_ident!("{}", format!("{unit:?}"));
        quote!(crate::price::UnitField { name: #name, unit: crate::price::PriceUnit::#unit })
    });
    // A flag people can type on any keyboard: the Rust name of a field named in another
    // script or by symbols (`高清` → `gao_qing`, `🎨` → `art`, `$` → `field_3`).
    let ascii_names = model
        .input_struct()
        .fields
        .iter()
        .filter(|f| !f.wire.is_ascii() || !f.wire.chars().any(|c| c.is_ascii_alphanumeric()))
        .map(|f| {
            let (wire, ascii) = (&f.wire, f.ident.trim_end_matches('_'));
            quote!((#wire, #ascii))
        });
    let input_schema = raw_string(&model.input_schema);
    let output_schema = raw_string(&model.output_schema);
    quote! {
        /// This model's entry in the runtime catalog.
        pub static INFO: crate::model::ModelInfo = crate::model::ModelInfo {
            id: #id,
            display_name: #display_name,
            docs: #docs,
            input: &schema::#root,
            rules: &[#(#rules),*],
            outputs: #output::FIELDS,
            upstream: crate::model::Upstream {
                output_kind: #output_kind,
                categories: &[#(#categories),*],
                price: #price,
                output_published: #output_published,
            },
            price_units: &[#(#price_units),*],
            ascii_names: &[#(#ascii_names),*],
            input_schema: #input_schema,
            output_schema: #output_schema,
            decode: crate::input::decode_dyn::<#input>,
        };
    }
}

/// A cross-field rule as the runtime's `CrossRule`.
fn cross_rule(rule: &CrossRule) -> TokenStream {
    match rule {
        CrossRule::MaxTotal {
            fields,
            max,
            message,
        } => {
            let max = Literal::i64_unsuffixed(*max);
            quote!(crate::schema::CrossRule::MaxTotal { fields: &[#(#fields),*], max: #max, message: #message })
        }
        CrossRule::PromptCount {
            prompt,
            count,
            message,
        } => {
            quote!(crate::schema::CrossRule::PromptCount { prompt: #prompt, count: #count, message: #message })
        }
        CrossRule::AtLeastOne { fields, message } => {
            quote!(crate::schema::CrossRule::AtLeastOne { fields: &[#(#fields),*], message: #message })
        }
        CrossRule::AtMostOne { fields, message } => {
            quote!(crate::schema::CrossRule::AtMostOne { fields: &[#(#fields),*], message: #message })
        }
    }
}

/// The catalog's price as the runtime's `Price`.
fn price(price: &Price) -> TokenStream {
    let nanos = match price.nanos {
        Some(n) => {
            let n = Literal::u64_unsuffixed(n);
            quote!(Some(crate::price::Usd::from_nanos(#n)))
        }
        None => quote!(None),
    };
    let unit = match price.unit {
        Some(unit) => {
            let unit = format_ident!("{}", format!("{unit:?}"));
            quote!(Some(crate::price::PriceUnit::#unit))
        }
        None => quote!(None),
    };
    let pricing = match price.pricing {
        Some(pricing) => {
            let pricing = format_ident!("{}", format!("{pricing:?}"));
            quote!(Some(crate::price::Pricing::#pricing))
        }
        None => quote!(None),
    };
    let note = match &price.note {
        Some(note) => quote!(Some(::std::borrow::Cow::Borrowed(#note))),
        None => quote!(None),
    };
    quote!(crate::price::Price { usd: #nanos, unit: #unit, pricing: #pricing, note: #note })
}

/// A raw string literal (`r#"..."#`) of the text, with enough `#`s for what it holds, so a
/// schema reads as JSON in the generated code.
fn raw_string(text: &str) -> Literal {
    let mut hashes = 1;
    while text.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let fence = "#".repeat(hashes);
    format!("r{fence}\"{text}\"{fence}")
        .parse()
        .unwrap_or_else(|_| Literal::string(text))
}
