//! Each model's `mod schema`: one `static` per schema node, the data validation checks and the
//! runtime catalog describes. Only the keywords a node uses are written; the rest come from
//! `Schema::ANY`.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::ir::{Dependency, Enum, EnumRepr, Items, Model, SchemaNode, Sub, Types};

/// The `mod schema` of a model.
pub(crate) fn module(model: &Model) -> TokenStream {
    let statics = model.schemas.iter().map(|node| node_static(model, node));
    quote! {
        /// The input's schema, one `static` per schema node: what `validate()` checks and the
        /// runtime catalog describes.
        mod schema {
            use crate::schema::*;

            #(#statics)*
        }
    }
}

/// One node's `static` (and its pattern's): the fields it sets over `Schema::ANY`, always in
/// this order, so that the generated code stays byte for byte the same.
fn node_static(model: &Model, node: &SchemaNode) -> TokenStream {
    let name = format_ident!("{}", node.name);
    // The schema holds its patterns by reference: `static`s of their own, beside it.
    let pattern = node.pattern.as_ref().map(|pattern| {
        let pattern_name = pattern_ident(node);
        quote!(static #pattern_name: Pattern = Pattern::new(#pattern);)
    });
    let key_patterns = node
        .pattern_properties
        .iter()
        .enumerate()
        .map(|(i, (source, _))| {
            let name = key_pattern_ident(node, i);
            quote!(static #name: Pattern = Pattern::new(#source);)
        });
    let mut fields = value_fields(model, node);
    fields.extend(bound_fields(node));
    fields.extend(string_fields(node));
    fields.extend(array_fields(model, node));
    fields.extend(object_fields(model, node));
    fields.extend(combinator_fields(model, node));
    fields.extend(annotation_fields(node));
    quote! {
        #pattern
        #(#key_patterns)*
        pub(super) static #name: Schema = Schema {
            #(#fields,)*
            ..Schema::ANY
        };
    }
}

/// `types`, `choices` (each with its enum variant and alias, when the node has a choice enum)
/// and `constant`.
fn value_fields(model: &Model, node: &SchemaNode) -> Vec<TokenStream> {
    let mut fields = Vec::new();
    if let Some(types) = node.types {
        let types = types_tokens(types);
        fields.push(quote!(types: #types));
    }
    if let Some(choices) = &node.choices {
        let e = node.choice_enum.map(|i| &model.enums[i]);
        let items = choices.iter().map(|value| choice(e, value));
        fields.push(quote!(choices: Some(&[#(#items),*])));
    }
    if let Some(constant) = &node.constant {
        let value = json(constant);
        fields.push(quote!(constant: Some(&#value)));
    }
    fields
}

/// One `Choice`: the value, and the variant of the choice enum `e` that stands for it.
fn choice(e: Option<&Enum>, value: &Value) -> TokenStream {
    let variant = e.and_then(|e| {
        let wire = match (e.repr, value) {
            (EnumRepr::String, Value::String(s)) => s.clone(),
            (EnumRepr::Integer, Value::Number(n)) => n.as_i64()?.to_string(),
            _ => return None,
        };
        e.variants.iter().find(|v| v.wire == wire)
    });
    let json = json(value);
    let name = variant.map(|v| {
        let name = &v.name;
        quote!(.variant(#name))
    });
    let alias = variant
        .and_then(|v| v.alias.as_deref())
        .map(|alias| quote!(.alias(#alias)));
    quote!(Choice::new(#json) #name #alias)
}

/// The numeric bounds, then the bounds on a length, a list and an object.
fn bound_fields(node: &SchemaNode) -> Vec<TokenStream> {
    let numbers = [
        ("minimum", &node.minimum),
        ("maximum", &node.maximum),
        ("exclusive_minimum", &node.exclusive_minimum),
        ("exclusive_maximum", &node.exclusive_maximum),
        ("multiple_of", &node.multiple_of),
    ];
    let numbers = numbers.into_iter().filter_map(|(key, value)| {
        let (key, n) = (format_ident!("{key}"), number(value.as_ref()?));
        Some(quote!(#key: Some(#n)))
    });
    let counts = [
        ("min_length", node.min_length),
        ("max_length", node.max_length),
        ("min_items", node.min_items),
        ("max_items", node.max_items),
        ("min_contains", node.min_contains),
        ("max_contains", node.max_contains),
        ("min_properties", node.min_properties),
        ("max_properties", node.max_properties),
    ];
    let counts = counts.into_iter().filter_map(|(key, value)| {
        let (key, n) = (format_ident!("{key}"), Literal::u64_unsuffixed(value?));
        Some(quote!(#key: Some(#n)))
    });
    numbers.chain(counts).collect()
}

/// `pattern`, `format` and the media spec.
fn string_fields(node: &SchemaNode) -> Vec<TokenStream> {
    let mut fields = Vec::new();
    if node.pattern.is_some() {
        let pattern_name = pattern_ident(node);
        fields.push(quote!(pattern: Some(&#pattern_name)));
    }
    if let Some(format) = node.format {
        let variant = format_ident!("{}", format_variant(format.name()));
        fields.push(quote!(format: Some(Format::#variant)));
    }
    if let Some(media) = &node.media {
        let kind = format_ident!("{}", format!("{:?}", media.kind));
        let formats = media.formats.iter().map(|f| {
            let f = format_ident!("{}", format!("{:?}", f));
            quote!(MediaFormat::#f)
        });
        let rules = media.rules.iter().map(|r| {
            let rule = format_ident!("{}", format!("{:?}", r.rule));
            let limit = Literal::f64_unsuffixed(r.limit);
            let message = &r.message;
            quote!(MediaRule { rule: Rule::#rule, limit: #limit, message: #message })
        });
        fields.push(quote! {
            media: Some(&MediaSpec {
                kind: MediaKind::#kind,
                formats: &[#(#formats),*],
                rules: &[#(#rules),*],
            })
        });
    }
    fields
}

/// The `static` holding the node's compiled pattern.
fn pattern_ident(node: &SchemaNode) -> Ident {
    format_ident!("{}_PATTERN", node.name)
}

/// The `static` holding the `index`th pattern of the node's `patternProperties`: numbered
/// when there are several.
fn key_pattern_ident(node: &SchemaNode, index: usize) -> Ident {
    if node.pattern_properties.len() == 1 {
        format_ident!("{}_KEY_PATTERN", node.name)
    } else {
        format_ident!("{}_KEY_PATTERN_{}", node.name, index + 1)
    }
}

/// `items`, `unique_items`, `contains` (its counts are bounds) and `unevaluated_items`.
fn array_fields(model: &Model, node: &SchemaNode) -> Vec<TokenStream> {
    let mut fields = Vec::new();
    match &node.items {
        Items::Any => {}
        Items::Each(sub) => {
            let sub = sub_ref(model, *sub);
            fields.push(quote!(items: Items::Each(#sub)));
        }
        Items::Tuple { prefix, rest } => {
            let prefix = prefix.iter().map(|s| sub_ref(model, *s));
            let rest = option(rest.map(|s| sub_ref(model, s)));
            fields.push(quote!(items: Items::Tuple { prefix: &[#(#prefix),*], rest: #rest }));
        }
    }
    if node.unique_items {
        fields.push(quote!(unique_items: true));
    }
    if let Some(sub) = node.contains {
        let sub = sub_ref(model, sub);
        fields.push(quote!(contains: Some(#sub)));
    }
    if let Some(sub) = node.unevaluated_items {
        let sub = sub_ref(model, sub);
        fields.push(quote!(unevaluated_items: Some(#sub)));
    }
    fields
}

/// `properties`, `required`, `additional_properties`, `pattern_properties`, `property_names`,
/// `dependencies` and `unevaluated_properties`.
fn object_fields(model: &Model, node: &SchemaNode) -> Vec<TokenStream> {
    let mut fields = Vec::new();
    if !node.properties.is_empty() {
        let properties = node.properties.iter().map(|(name, sub)| {
            let schema = sub_ref(model, *sub);
            quote!(Property { name: #name, schema: #schema })
        });
        fields.push(quote!(properties: &[#(#properties),*]));
    }
    if !node.required.is_empty() {
        let names = &node.required;
        fields.push(quote!(required: &[#(#names),*]));
    }
    if let Some(sub) = node.additional_properties {
        let sub = sub_ref(model, sub);
        fields.push(quote!(additional_properties: Some(#sub)));
    }
    if !node.pattern_properties.is_empty() {
        let entries = node
            .pattern_properties
            .iter()
            .enumerate()
            .map(|(i, (_, sub))| {
                let pattern = key_pattern_ident(node, i);
                let schema = sub_ref(model, *sub);
                quote!(PatternProperty { pattern: &#pattern, schema: #schema })
            });
        fields.push(quote!(pattern_properties: &[#(#entries),*]));
    }
    if let Some(sub) = node.property_names {
        let sub = sub_ref(model, sub);
        fields.push(quote!(property_names: Some(#sub)));
    }
    if !node.dependencies.is_empty() {
        let entries = node.dependencies.iter().map(|(name, dependency)| {
            let needs = match dependency {
                Dependency::Required(names) => quote!(Needs::Properties(&[#(#names),*])),
                Dependency::Schema(sub) => {
                    let sub = sub_ref(model, *sub);
                    quote!(Needs::Schema(#sub))
                }
            };
            quote!(Dependency { name: #name, needs: #needs })
        });
        fields.push(quote!(dependencies: &[#(#entries),*]));
    }
    if let Some(sub) = node.unevaluated_properties {
        let sub = sub_ref(model, sub);
        fields.push(quote!(unevaluated_properties: Some(#sub)));
    }
    fields
}

/// `all_of`, `any_of`, `one_of`, `not` and `condition`.
fn combinator_fields(model: &Model, node: &SchemaNode) -> Vec<TokenStream> {
    let combinators = [
        ("all_of", &node.all_of),
        ("any_of", &node.any_of),
        ("one_of", &node.one_of),
    ];
    let mut fields: Vec<TokenStream> = combinators
        .into_iter()
        .filter(|(_, subs)| !subs.is_empty())
        .map(|(key, subs)| {
            let key = format_ident!("{key}");
            let subs = subs.iter().map(|s| sub_ref(model, *s));
            quote!(#key: &[#(#subs),*])
        })
        .collect();
    if let Some(sub) = node.not {
        let sub = sub_ref(model, sub);
        fields.push(quote!(not: Some(#sub)));
    }
    if let Some(condition) = node.condition {
        let test = sub_ref(model, condition.test);
        let then = option(condition.then.map(|s| sub_ref(model, s)));
        let otherwise = option(condition.otherwise.map(|s| sub_ref(model, s)));
        fields.push(quote! {
            condition: Some(Condition { test: #test, then: #then, otherwise: #otherwise })
        });
    }
    fields
}

/// `title`, `description` and `default`.
fn annotation_fields(node: &SchemaNode) -> Vec<TokenStream> {
    let mut fields = Vec::new();
    if let Some(title) = &node.title {
        fields.push(quote!(title: Some(#title)));
    }
    if let Some(description) = &node.description {
        fields.push(quote!(description: Some(#description)));
    }
    if let Some(default) = &node.default {
        let value = json(default);
        fields.push(quote!(default: Some(&#value)));
    }
    fields
}

/// A reference to a schema: a node's `static`, or `true`/`false`.
fn sub_ref(model: &Model, sub: Sub) -> TokenStream {
    match sub {
        Sub::Any => quote!(&Schema::ANY),
        Sub::Never => quote!(&Schema::NEVER),
        Sub::Node(id) => {
            let name = format_ident!("{}", model.schemas[id].name);
            quote!(&#name)
        }
    }
}

fn types_tokens(types: Types) -> TokenStream {
    let names: Vec<TokenStream> = types
        .iter()
        .map(|t| {
            let ident = format_ident!("{}", t.name().to_ascii_uppercase());
            quote!(Types::#ident)
        })
        .collect();
    match names.split_first() {
        None => quote!(Types::NONE),
        Some((first, rest)) => quote!(#first #(.with(#rest))*),
    }
}

/// A JSON value as a `Json` constant.
fn json(value: &Value) -> TokenStream {
    match value {
        Value::Null => quote!(Json::Null),
        Value::Bool(b) => quote!(Json::Bool(#b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => {
                let i = Literal::i64_unsuffixed(i);
                quote!(Json::int(#i))
            }
            None => {
                let n = number(n);
                quote!(Json::Number(#n))
            }
        },
        Value::String(s) => quote!(Json::String(#s)),
        Value::Array(items) => {
            let items = items.iter().map(json);
            quote!(Json::Array(&[#(#items),*]))
        }
        Value::Object(map) => {
            let entries = map.iter().map(|(k, v)| {
                let v = json(v);
                quote!((#k, #v))
            });
            quote!(Json::Object(&[#(#entries),*]))
        }
    }
}

/// A number as written: an integer stays one, a float stays one.
fn number(n: &serde_json::Number) -> TokenStream {
    if let Some(i) = n.as_i64() {
        let i = Literal::i64_unsuffixed(i);
        quote!(Number::from_i64(#i))
    } else if let Some(u) = n.as_u64() {
        let u = Literal::u64_unsuffixed(u);
        quote!(Number::from_u64(#u))
    } else {
        let f = Literal::f64_unsuffixed(n.as_f64().unwrap_or_default());
        quote!(Number::from_f64(#f))
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}

/// `date-time` → `DateTime`.
fn format_variant(name: &str) -> String {
    heck::ToUpperCamelCase::to_upper_camel_case(name)
}
