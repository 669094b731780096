//! Choice enums (exact wire values through serde, `Display`, `FromStr`) and unions of values of
//! different JSON types.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::input::rust_type;
use super::{doc_attrs, schema_text};
use runcomfy_vocab::json_type::JsonType;

use crate::ir::{ChoicesOwner, Enum, EnumRepr, Model, Union, Variant};

/// A choice enum.
pub(crate) fn enumeration(e: &Enum) -> TokenStream {
    let idents: Vec<_> = e
        .variants
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let definition = definition(e);
    let from_str = from_str(e, &idents);
    let specific = match e.repr {
        EnumRepr::String => string_impls(e, &idents),
        EnumRepr::Integer => integer_impls(e, &idents),
    };
    quote! {
        #definition
        #specific
        #from_str
    }
}

/// The enum itself: docs, derives, variants.
fn definition(e: &Enum) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let mut docs: Vec<String> = e.docs.iter().map(|d| schema_text(d)).collect();
    // Non-exhaustive, so a choice the catalog adds later is not a breaking change.
    let owner = match &e.owner {
        ChoicesOwner::Field(field) => format!("the `{field}` field"),
        ChoicesOwner::Definition(pointer) => format!("the definition `#{pointer}`"),
    };
    docs.push(format!(
        "The choices of {owner}. The catalog may add choices: match with a wildcard arm."
    ));
    if e.variants.iter().any(|v| v.alias.is_some()) {
        docs.push(
            "An alias is what people type: `FromStr` takes it, and so does a JSON input \
             through `ModelInfo::normalize_choices`; serde and validation take the wire value."
                .to_owned(),
        );
    }
    let docs = doc_attrs(&docs);
    let variants = e.variants.iter().map(|v| {
        let ident = format_ident!("{}", v.name);
        let doc = variant_doc(v);
        let wire = &v.wire;
        let rename = (e.repr == EnumRepr::String && v.name != v.wire)
            .then(|| quote!(#[serde(rename = #wire)]));
        quote! {
            #doc
            #rename
            #ident,
        }
    });
    let derives = match e.repr {
        EnumRepr::String => {
            quote!(#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)])
        }
        EnumRepr::Integer => quote!(#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]),
    };
    quote! {
        #docs
        #derives
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
        }
    }
}

/// `FromStr`: each arm takes the wire value and, when there is one, the alias.
fn from_str(e: &Enum, idents: &[proc_macro2::Ident]) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let type_name = &e.name;
    let wires = e.variants.iter().map(|v| v.wire.as_str());
    let arms = e.variants.iter().zip(idents).map(|(v, ident)| {
        let alias = v.alias.iter();
        let wire = &v.wire;
        quote!(#wire #(| #alias)* => Ok(Self::#ident),)
    });
    // Said of the enums that have aliases only (QA repro44 F4: said of every one).
    let doc = match e.variants.iter().any(|v| v.alias.is_some()) {
        true => " Parses the wire value, or its short alias.",
        false => " Parses the wire value.",
    };
    quote! {
        impl std::str::FromStr for #name {
            type Err = crate::model::ParseChoiceError;

            #[doc = #doc]
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    #(#arms)*
                    _ => Err(crate::model::ParseChoiceError {
                        type_name: #type_name,
                        value: value.to_owned(),
                        expected: &[#(#wires),*],
                    }),
                }
            }
        }
    }
}

fn string_impls(e: &Enum, idents: &[proc_macro2::Ident]) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let wires = e.variants.iter().map(|v| v.wire.as_str());
    quote! {
        impl #name {
            /// Every choice, in schema order.
            pub const ALL: &'static [Self] = &[#(Self::#idents),*];

            /// The value sent on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    #(Self::#idents => #wires,)*
                }
            }
        }

        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Instance for #name {
            fn view(&self) -> View<'_> {
                View::String(self.as_str())
            }
        }
    }
}

fn integer_impls(e: &Enum, idents: &[proc_macro2::Ident]) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let type_name = &e.name;
    let values: Vec<Literal> = e
        .variants
        .iter()
        .map(|v| Literal::i64_unsuffixed(v.wire.parse().unwrap_or_default()))
        .collect();
    let wires: Vec<&str> = e.variants.iter().map(|v| v.wire.as_str()).collect();
    let unknown = format!(
        "{{value}} is not a valid {type_name}; expected one of: {}",
        wires.join(", ")
    );
    quote! {
        impl #name {
            /// Every choice, in schema order.
            pub const ALL: &'static [Self] = &[#(Self::#idents),*];

            /// The value sent on the wire.
            pub const fn value(self) -> i64 {
                match self {
                    #(Self::#idents => #values,)*
                }
            }

            /// The choice with this value.
            pub const fn from_value(value: i64) -> Option<Self> {
                match value {
                    #(#values => Some(Self::#idents),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.value())
            }
        }

        impl Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.value())
            }
        }

        impl<'de> Deserialize<'de> for #name {
            /// Takes the number in any form JSON Schema counts as equal (`3` or `3.0`).
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = Number::deserialize(deserializer)?;
                value
                    .as_i64()
                    .and_then(Self::from_value)
                    .ok_or_else(|| serde::de::Error::custom(format!(#unknown)))
            }
        }

        impl Instance for #name {
            fn view(&self) -> View<'_> {
                View::Number(Number::from_i64(self.value()))
            }
        }
    }
}

fn variant_doc(v: &Variant) -> TokenStream {
    let mut text = format!("`{}`", v.wire.replace('`', "'"));
    if let Some(alias) = &v.alias {
        text.push_str(&format!(" (alias `{alias}`)"));
    }
    text.push('.');
    doc_attrs(&[text])
}

/// A union: which variant a value is, its JSON type tells.
pub(crate) fn union(model: &Model, u: &Union) -> TokenStream {
    let name = format_ident!("{}", u.name);
    let docs = doc_attrs(&u.docs);
    let variants = u.variants.iter().map(|v| {
        let ident = format_ident!("{}", v.name);
        let ty = rust_type(model, &v.ty);
        let doc = match (&u.tag, &v.tag) {
            (Some(tag), Some(value)) => format!("An object whose `{tag}` is `{value:?}`."),
            _ => format!("A JSON {}.", v.json),
        };
        let doc = doc_attrs(&[doc]);
        quote! {
            #doc
            #ident(#ty),
        }
    });
    let arms = u.variants.iter().map(|v| {
        let ident = format_ident!("{}", v.name);
        quote!(Self::#ident(value) => value.view(),)
    });
    // Object shapes are told apart by their tag: serde's untagged reading would take the first
    // shape whose fields fit, whatever the tag says.
    let (derives, deserialize) = match &u.tag {
        Some(tag) => (
            quote!(#[derive(Debug, Clone, PartialEq, Serialize)]),
            tagged_deserialize(u, tag),
        ),
        None => (
            quote!(#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]),
            TokenStream::new(),
        ),
    };
    quote! {
        #docs
        #derives
        #[serde(untagged)]
        pub enum #name {
            #(#variants)*
        }

        #deserialize

        impl Instance for #name {
            fn view(&self) -> View<'_> {
                match self {
                    #(#arms)*
                }
            }
        }
    }
}

/// `Deserialize` for a tagged union: an object goes to the shape its tag names, any other
/// value to the variant of its JSON type.
fn tagged_deserialize(u: &Union, tag: &str) -> TokenStream {
    let name = format_ident!("{}", u.name);
    let arms = u.variants.iter().map(|v| {
        let ident = format_ident!("{}", v.name);
        let pattern = match (&v.tag, v.json) {
            (Some(value), _) => quote!(Some(#value)),
            (None, JsonType::Boolean) => quote!(_ if value.is_boolean()),
            (None, JsonType::Integer | JsonType::Number) => quote!(_ if value.is_number()),
            (None, JsonType::String) => quote!(_ if value.is_string()),
            (None, JsonType::Array) => quote!(_ if value.is_array()),
            (None, JsonType::Object) => quote!(_ if value.is_object()),
            (None, JsonType::Null) => quote!(_ if value.is_null()),
        };
        quote!(#pattern => serde_json::from_value(value).map(Self::#ident),)
    });
    let values: Vec<String> = u
        .variants
        .iter()
        .filter_map(|v| v.tag.as_ref().map(|value| format!("{value:?}")))
        .collect();
    let refusal = format!(
        "a value of `{}` is none of its shapes: an object's `{tag}` is one of {}",
        u.name,
        values.join(", ")
    );
    quote! {
        impl<'de> Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                let value = serde_json::Value::deserialize(deserializer)?;
                let read = match value.get(#tag).and_then(serde_json::Value::as_str) {
                    #(#arms)*
                    _ => return Err(D::Error::custom(#refusal)),
                };
                read.map_err(D::Error::custom)
            }
        }
    }
}
