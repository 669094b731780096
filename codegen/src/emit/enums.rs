//! Enums for string and integer choices: exact wire values through serde, `Display`, `FromStr`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{doc_attrs, schema_text};
use crate::ir::{Enum, EnumRepr, Variant};

pub(crate) fn enumeration(e: &Enum) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let mut docs: Vec<String> = e.docs.iter().map(|d| schema_text(d)).collect();
    // Non-exhaustive, so a choice the catalog adds later is not a breaking change.
    docs.push(format!(
        "The choices of the `{}` field. The catalog may add choices: match with a wildcard arm.",
        e.field
    ));
    let docs = doc_attrs(&docs);
    let idents: Vec<_> = e
        .variants
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let wires: Vec<&str> = e.variants.iter().map(|v| v.wire.as_str()).collect();
    let type_name = &e.name;
    let variant_docs = e.variants.iter().map(variant_doc);
    // Each arm accepts the wire value and, when there is one, the alias.
    let parse_arms = e.variants.iter().zip(&idents).map(|(v, ident)| {
        let alias = v.alias.iter();
        let wire = &v.wire;
        quote!(#wire #(| #alias)* => Ok(Self::#ident),)
    });
    let from_str = quote! {
        impl std::str::FromStr for #name {
            type Err = crate::model::ParseChoiceError;

            /// Parses the wire value, or its short alias.
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    #(#parse_arms)*
                    _ => Err(crate::model::ParseChoiceError {
                        type_name: #type_name,
                        value: value.to_owned(),
                        expected: &[#(#wires),*],
                    }),
                }
            }
        }
    };
    match e.repr {
        EnumRepr::String => {
            let variants = e
                .variants
                .iter()
                .zip(&variant_docs.collect::<Vec<_>>())
                .map(|(v, doc)| {
                    let ident = format_ident!("{}", v.name);
                    let wire = &v.wire;
                    let rename = (v.name != v.wire).then(|| quote!(#[serde(rename = #wire)]));
                    quote! {
                        #doc
                        #rename
                        #ident,
                    }
                })
                .collect::<Vec<_>>();
            quote! {
                #docs
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
                #[non_exhaustive]
                pub enum #name {
                    #(#variants)*
                }

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

                #from_str
            }
        }
        EnumRepr::Integer => {
            let values: Vec<Literal> = e
                .variants
                .iter()
                .map(|v| Literal::i64_unsuffixed(v.wire.parse().unwrap_or_default()))
                .collect();
            let variants = e.variants.iter().zip(variant_docs).map(|(v, doc)| {
                let ident = format_ident!("{}", v.name);
                quote! {
                    #doc
                    #ident,
                }
            });
            let unknown = format!(
                "{{value}} is not a valid {type_name}; expected one of: {}",
                wires.join(", ")
            );
            quote! {
                #docs
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
                #[non_exhaustive]
                pub enum #name {
                    #(#variants)*
                }

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

                #from_str

                impl Serialize for #name {
                    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                        serializer.serialize_i64(self.value())
                    }
                }

                impl<'de> Deserialize<'de> for #name {
                    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                        let value = i64::deserialize(deserializer)?;
                        Self::from_value(value).ok_or_else(|| serde::de::Error::custom(format!(#unknown)))
                    }
                }

                impl JsonSchema for #name {
                    fn schema_name() -> std::borrow::Cow<'static, str> {
                        #type_name.into()
                    }

                    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                        schemars::json_schema!({
                            "type": "integer",
                            "enum": [#(#values),*]
                        })
                    }
                }
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
