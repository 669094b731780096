//! The runtime catalog entry of each model (`INFO`), read by the CLI and the simulator.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{Catalog, CrossRule, EnumRepr, Field, Model, Type};
use crate::lower::media_of;

pub(crate) fn model_info(catalog: &Catalog, model: &Model) -> TokenStream {
    let id = &model.id;
    let display_name = &model.display_name;
    let docs = opt_str(if model.docs.is_empty() {
        None
    } else {
        Some(model.docs.join("\n\n"))
    });
    let input = format_ident!("{}", model.input.name);
    let rust_input = format!(
        "runcomfy::models::{}::{}",
        model.module_path.join("::"),
        model.input.name
    );
    let output = format_ident!("{}", catalog.outputs[model.output].name);
    let fields = model.input.fields.iter().map(|f| field_info(model, f));
    let rules = model.rules.iter().map(|rule| match rule {
        CrossRule::MaxTotal {
            fields,
            max,
            message,
        } => {
            let names = fields.iter().map(|&i| model.input.fields[i].wire.as_str());
            let max = Literal::i64_unsuffixed(*max);
            quote!(CrossRule::MaxTotal { fields: &[#(#names),*], max: #max, message: #message })
        }
        CrossRule::PromptCount {
            prompt,
            count,
            message,
        } => {
            let prompt = &model.input.fields[*prompt].wire;
            let count = &model.input.fields[*count].wire;
            quote!(CrossRule::PromptCount { prompt: #prompt, count: #count, message: #message })
        }
    });
    let input_schema = &model.input_schema;
    let output_schema = &model.output_schema;
    quote! {
        /// This model's entry in the runtime catalog.
        pub static INFO: ModelInfo = ModelInfo {
            id: #id,
            display_name: #display_name,
            docs: #docs,
            rust_input: #rust_input,
            fields: &[#(#fields),*],
            output_fields: #output::FIELDS,
            cross_rules: &[#(#rules),*],
            input_schema: #input_schema,
            output_schema: #output_schema,
            validate_json: crate::catalog::validate_json::<#input>,
        };
    }
}

fn opt_str(value: Option<String>) -> TokenStream {
    match value {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

fn opt_u(value: Option<u64>) -> TokenStream {
    match value {
        Some(n) => {
            let n = Literal::u64_unsuffixed(n);
            quote!(Some(#n))
        }
        None => quote!(None),
    }
}

fn opt_f(value: Option<f64>) -> TokenStream {
    match value {
        Some(n) => {
            let n = Literal::f64_unsuffixed(n);
            quote!(Some(#n))
        }
        None => quote!(None),
    }
}

fn field_info(model: &Model, f: &Field) -> TokenStream {
    let (item, array, min_items, max_items) = match &f.ty {
        Type::Array {
            items,
            min_items,
            max_items,
        } => (items.as_ref(), true, *min_items, *max_items),
        other => (other, false, None, None),
    };
    let kind = match item {
        Type::String { .. } => quote!(FieldKind::String),
        Type::Uri => quote!(FieldKind::Uri),
        Type::Media(spec) => {
            let kind = format_ident!("{}", format!("{:?}", spec.kind));
            quote!(FieldKind::Media(MediaKind::#kind))
        }
        Type::Integer { .. } => quote!(FieldKind::Integer),
        Type::Number { .. } => quote!(FieldKind::Number),
        Type::Boolean => quote!(FieldKind::Boolean),
        Type::Enum(i) if model.enums[*i].repr == EnumRepr::String => {
            quote!(FieldKind::StringChoice)
        }
        Type::Enum(_) => quote!(FieldKind::IntegerChoice),
        Type::Array { .. } | Type::Struct(_) | Type::Json => quote!(FieldKind::Json),
    };
    let (minimum, maximum) = match item {
        Type::Integer { minimum, maximum } | Type::Number { minimum, maximum } => {
            (*minimum, *maximum)
        }
        _ => (None, None),
    };
    let (min_length, max_length) = match item {
        Type::String {
            min_length,
            max_length,
        } => (*min_length, *max_length),
        _ => (None, None),
    };
    let choices = match item {
        Type::Enum(i) => {
            let e = &model.enums[*i];
            let items = e.variants.iter().map(|v| {
                let wire = match e.repr {
                    EnumRepr::String => serde_json::Value::String(v.wire.clone()).to_string(),
                    EnumRepr::Integer => v.wire.clone(),
                };
                let value = &v.wire;
                let variant = &v.name;
                let alias = opt_str(v.alias.clone());
                quote!(Choice { wire: #wire, value: #value, variant: #variant, alias: #alias })
            });
            quote!(&[#(#items),*])
        }
        _ => quote!(&[]),
    };
    let media = if media_of(&f.ty).is_some() {
        let name = format_ident!(
            "{}_MEDIA",
            heck::ToShoutySnakeCase::to_shouty_snake_case(f.ident.trim_end_matches('_'))
        );
        quote!(Some(#name))
    } else {
        quote!(None)
    };
    let name = &f.wire;
    let rust_name = &f.ident;
    let title = opt_str(f.title.clone());
    let description = opt_str(f.description.clone());
    let required = f.required;
    let nullable = f.nullable;
    let default = opt_str(f.default.as_ref().map(|d| d.to_string()));
    let (minimum, maximum) = (opt_f(minimum), opt_f(maximum));
    let (min_length, max_length) = (opt_u(min_length), opt_u(max_length));
    let (min_items, max_items) = (opt_u(min_items), opt_u(max_items));
    quote! {
        FieldInfo {
            name: #name,
            rust_name: #rust_name,
            title: #title,
            description: #description,
            kind: #kind,
            array: #array,
            required: #required,
            nullable: #nullable,
            default: #default,
            choices: #choices,
            minimum: #minimum,
            maximum: #maximum,
            min_length: #min_length,
            max_length: #max_length,
            min_items: #min_items,
            max_items: #max_items,
            media: #media,
        }
    }
}
