//! JSON Schema keywords: every one the catalog may hold, what its value is, and what the
//! generator does with it.
//!
//! A schema object is read key by key against this list. Each key is a [`Keyword`] (checked,
//! an annotation, structure, or refused by name), a vendor extension (`x-...` or `_...`, an
//! annotation by convention), or unknown, which is refused like any unsupported keyword:
//! nothing in a schema is ever skipped silently. Draft 7 and 2020-12 spellings are both known
//! (`definitions`/`$defs`, array `items`/`prefixItems`, `additionalItems`/`items`).

/// Compiles a `pattern` (or a value of `format: regex`) as JSON Schema reads it: an ECMA-262
/// regular expression in Unicode mode (`u`), found anywhere in the string unless anchored. The
/// generator refuses, when the catalog is read, a pattern this engine cannot express.
pub fn compile_pattern(source: &str) -> Result<regress::Regex, regress::Error> {
    regress::Regex::with_flags(source, "u")
}

/// A keyword of JSON Schema (draft 4 to 2020-12), of RunComfy's catalog, or of OpenAPI 3.0's
/// schema objects (`nullable`, `example`, `discriminator`), which catalogs exported from an API
/// description (or a Pydantic model) hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Keyword {
    /// `$schema`: the dialect.
    Schema,
    /// `$id` (and draft 4's `id`): a base URI for the references below it.
    Id,
    /// `$ref`: a reference to another schema.
    Ref,
    /// `$defs` (2019-09 and later).
    Defs,
    /// `definitions` (draft 7 and earlier).
    Definitions,
    /// `$comment`.
    Comment,
    /// `$anchor`.
    Anchor,
    /// `$dynamicRef`.
    DynamicRef,
    /// `$dynamicAnchor`.
    DynamicAnchor,
    /// `$recursiveRef`.
    RecursiveRef,
    /// `$recursiveAnchor`.
    RecursiveAnchor,
    /// `$vocabulary`.
    Vocabulary,
    /// `title`.
    Title,
    /// `description`.
    Description,
    /// `default`.
    Default,
    /// `examples`.
    Examples,
    /// `example`: OpenAPI's single example.
    Example,
    /// `readOnly`.
    ReadOnly,
    /// `writeOnly`.
    WriteOnly,
    /// `deprecated`.
    Deprecated,
    /// `contentMediaType`.
    ContentMediaType,
    /// `contentEncoding`.
    ContentEncoding,
    /// `contentSchema`.
    ContentSchema,
    /// `type`.
    Type,
    /// `enum`.
    Enum,
    /// `const`.
    Const,
    /// `minimum`.
    Minimum,
    /// `maximum`.
    Maximum,
    /// `exclusiveMinimum`: a number (draft 6 and later) or draft 4's boolean.
    ExclusiveMinimum,
    /// `exclusiveMaximum`: a number (draft 6 and later) or draft 4's boolean.
    ExclusiveMaximum,
    /// `multipleOf`.
    MultipleOf,
    /// `minLength`.
    MinLength,
    /// `maxLength`.
    MaxLength,
    /// `pattern`.
    Pattern,
    /// `format`.
    Format,
    /// `items`: one schema for every item, or (draft 7 and earlier) a list of schemas by position.
    Items,
    /// `prefixItems` (2020-12): schemas by position.
    PrefixItems,
    /// `additionalItems` (draft 7 and earlier): the items after a positional `items`.
    AdditionalItems,
    /// `minItems`.
    MinItems,
    /// `maxItems`.
    MaxItems,
    /// `uniqueItems`.
    UniqueItems,
    /// `contains`.
    Contains,
    /// `minContains`.
    MinContains,
    /// `maxContains`.
    MaxContains,
    /// `unevaluatedItems`.
    UnevaluatedItems,
    /// `properties`.
    Properties,
    /// `required`.
    Required,
    /// `additionalProperties`.
    AdditionalProperties,
    /// `minProperties`.
    MinProperties,
    /// `maxProperties`.
    MaxProperties,
    /// `patternProperties`.
    PatternProperties,
    /// `propertyNames`.
    PropertyNames,
    /// `dependencies` (draft 7 and earlier).
    Dependencies,
    /// `dependentRequired`.
    DependentRequired,
    /// `dependentSchemas`.
    DependentSchemas,
    /// `unevaluatedProperties`.
    UnevaluatedProperties,
    /// `allOf`.
    AllOf,
    /// `anyOf`.
    AnyOf,
    /// `oneOf`.
    OneOf,
    /// `not`.
    Not,
    /// `if`.
    If,
    /// `then`.
    Then,
    /// `else`.
    Else,
    /// `nullable`: OpenAPI 3.0's way to add `null` to `type`.
    Nullable,
    /// `discriminator`: OpenAPI's hint of the property that tells a `oneOf`'s (or `anyOf`'s)
    /// members apart; the members decide what is valid, so it constrains nothing itself.
    Discriminator,
    /// `externalDocs`: OpenAPI's link to more documentation.
    ExternalDocs,
    /// `components`: OpenAPI's container of reusable schemas (`components/schemas/...`), which
    /// a schema cut from an API description keeps for its `$ref`s; read through them, as
    /// `$defs` is.
    Components,
    /// `xml`: OpenAPI's XML representation, which JSON bodies never use.
    Xml,
    /// RunComfy's `validations`: rules measured on each media file ([`crate::rule`]).
    Validations,
}

/// What the generator does with a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Enforced exactly as JSON Schema defines it, in the generated types and in validation.
    Checked,
    /// Documentation or metadata; it constrains nothing (`title`, `default`, `$comment`).
    Annotation,
    /// Shapes how the schema is read (`$schema`, `$defs`): handled by the reader.
    Structure,
    /// Not supported: a schema holding it is refused when the catalog is loaded, with this
    /// reason, unless an overlay removes it or accepts it unchecked.
    Refused(&'static str),
}

/// What a keyword's value is, so a reader can walk into the schemas it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// One schema (`not`, `additionalProperties`).
    Schema,
    /// A list of schemas (`allOf`).
    Schemas,
    /// Schemas by name (`properties`, `$defs`); in draft 7's `dependencies`, a name may hold a
    /// list of names instead.
    SchemaMap,
    /// A schema or a list of schemas (`items` in draft 7).
    SchemaOrSchemas,
    /// Anything else: a number, a string, JSON data (`enum`, `default`).
    Value,
}

impl Keyword {
    /// Every keyword, in the order of this module.
    pub const ALL: &'static [Keyword] = &[
        Keyword::Schema,
        Keyword::Id,
        Keyword::Ref,
        Keyword::Defs,
        Keyword::Definitions,
        Keyword::Comment,
        Keyword::Anchor,
        Keyword::DynamicRef,
        Keyword::DynamicAnchor,
        Keyword::RecursiveRef,
        Keyword::RecursiveAnchor,
        Keyword::Vocabulary,
        Keyword::Title,
        Keyword::Description,
        Keyword::Default,
        Keyword::Examples,
        Keyword::Example,
        Keyword::ReadOnly,
        Keyword::WriteOnly,
        Keyword::Deprecated,
        Keyword::ContentMediaType,
        Keyword::ContentEncoding,
        Keyword::ContentSchema,
        Keyword::Type,
        Keyword::Enum,
        Keyword::Const,
        Keyword::Minimum,
        Keyword::Maximum,
        Keyword::ExclusiveMinimum,
        Keyword::ExclusiveMaximum,
        Keyword::MultipleOf,
        Keyword::MinLength,
        Keyword::MaxLength,
        Keyword::Pattern,
        Keyword::Format,
        Keyword::Items,
        Keyword::PrefixItems,
        Keyword::AdditionalItems,
        Keyword::MinItems,
        Keyword::MaxItems,
        Keyword::UniqueItems,
        Keyword::Contains,
        Keyword::MinContains,
        Keyword::MaxContains,
        Keyword::UnevaluatedItems,
        Keyword::Properties,
        Keyword::Required,
        Keyword::AdditionalProperties,
        Keyword::MinProperties,
        Keyword::MaxProperties,
        Keyword::PatternProperties,
        Keyword::PropertyNames,
        Keyword::Dependencies,
        Keyword::DependentRequired,
        Keyword::DependentSchemas,
        Keyword::UnevaluatedProperties,
        Keyword::AllOf,
        Keyword::AnyOf,
        Keyword::OneOf,
        Keyword::Not,
        Keyword::If,
        Keyword::Then,
        Keyword::Else,
        Keyword::Nullable,
        Keyword::Discriminator,
        Keyword::ExternalDocs,
        Keyword::Components,
        Keyword::Xml,
        Keyword::Validations,
    ];

    /// The keyword as schemas spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Keyword::Schema => "$schema",
            Keyword::Id => "$id",
            Keyword::Ref => "$ref",
            Keyword::Defs => "$defs",
            Keyword::Definitions => "definitions",
            Keyword::Comment => "$comment",
            Keyword::Anchor => "$anchor",
            Keyword::DynamicRef => "$dynamicRef",
            Keyword::DynamicAnchor => "$dynamicAnchor",
            Keyword::RecursiveRef => "$recursiveRef",
            Keyword::RecursiveAnchor => "$recursiveAnchor",
            Keyword::Vocabulary => "$vocabulary",
            Keyword::Title => "title",
            Keyword::Description => "description",
            Keyword::Default => "default",
            Keyword::Examples => "examples",
            Keyword::Example => "example",
            Keyword::ReadOnly => "readOnly",
            Keyword::WriteOnly => "writeOnly",
            Keyword::Deprecated => "deprecated",
            Keyword::ContentMediaType => "contentMediaType",
            Keyword::ContentEncoding => "contentEncoding",
            Keyword::ContentSchema => "contentSchema",
            Keyword::Type => "type",
            Keyword::Enum => "enum",
            Keyword::Const => "const",
            Keyword::Minimum => "minimum",
            Keyword::Maximum => "maximum",
            Keyword::ExclusiveMinimum => "exclusiveMinimum",
            Keyword::ExclusiveMaximum => "exclusiveMaximum",
            Keyword::MultipleOf => "multipleOf",
            Keyword::MinLength => "minLength",
            Keyword::MaxLength => "maxLength",
            Keyword::Pattern => "pattern",
            Keyword::Format => "format",
            Keyword::Items => "items",
            Keyword::PrefixItems => "prefixItems",
            Keyword::AdditionalItems => "additionalItems",
            Keyword::MinItems => "minItems",
            Keyword::MaxItems => "maxItems",
            Keyword::UniqueItems => "uniqueItems",
            Keyword::Contains => "contains",
            Keyword::MinContains => "minContains",
            Keyword::MaxContains => "maxContains",
            Keyword::UnevaluatedItems => "unevaluatedItems",
            Keyword::Properties => "properties",
            Keyword::Required => "required",
            Keyword::AdditionalProperties => "additionalProperties",
            Keyword::MinProperties => "minProperties",
            Keyword::MaxProperties => "maxProperties",
            Keyword::PatternProperties => "patternProperties",
            Keyword::PropertyNames => "propertyNames",
            Keyword::Dependencies => "dependencies",
            Keyword::DependentRequired => "dependentRequired",
            Keyword::DependentSchemas => "dependentSchemas",
            Keyword::UnevaluatedProperties => "unevaluatedProperties",
            Keyword::AllOf => "allOf",
            Keyword::AnyOf => "anyOf",
            Keyword::OneOf => "oneOf",
            Keyword::Not => "not",
            Keyword::If => "if",
            Keyword::Then => "then",
            Keyword::Else => "else",
            Keyword::Nullable => "nullable",
            Keyword::Discriminator => "discriminator",
            Keyword::ExternalDocs => "externalDocs",
            Keyword::Components => "components",
            Keyword::Xml => "xml",
            Keyword::Validations => "validations",
        }
    }

    /// The keyword a schema key names, if any, in any dialect (draft 4's `id` is
    /// [`Dialect::keyword`]'s).
    pub fn parse(key: &str) -> Option<Keyword> {
        Keyword::ALL.iter().copied().find(|k| k.name() == key)
    }

    /// Whether a key is a vendor extension: `x-order` (OpenAPI's convention) or `_fal_ui_field`
    /// (a leading underscore, which no JSON Schema or OpenAPI keyword has): an annotation by
    /// convention, never a constraint.
    pub fn is_extension(key: &str) -> bool {
        key.starts_with("x-") || key.starts_with('_')
    }

    /// What the generator does with the keyword.
    pub const fn support(self) -> Support {
        match self {
            Keyword::Schema
            | Keyword::Id
            | Keyword::Anchor
            | Keyword::DynamicAnchor
            | Keyword::RecursiveAnchor
            | Keyword::Defs
            | Keyword::Definitions
            | Keyword::Components
            | Keyword::Ref => Support::Structure,
            Keyword::Comment
            | Keyword::Title
            | Keyword::Description
            | Keyword::Default
            | Keyword::Examples
            | Keyword::Example
            | Keyword::ReadOnly
            | Keyword::WriteOnly
            | Keyword::Deprecated
            | Keyword::Discriminator
            | Keyword::ExternalDocs
            | Keyword::Xml => Support::Annotation,
            Keyword::Type
            | Keyword::Enum
            | Keyword::Const
            | Keyword::Minimum
            | Keyword::Maximum
            | Keyword::ExclusiveMinimum
            | Keyword::ExclusiveMaximum
            | Keyword::MultipleOf
            | Keyword::MinLength
            | Keyword::MaxLength
            | Keyword::Pattern
            | Keyword::Format
            | Keyword::Items
            | Keyword::PrefixItems
            | Keyword::AdditionalItems
            | Keyword::MinItems
            | Keyword::MaxItems
            | Keyword::UniqueItems
            | Keyword::Properties
            | Keyword::Required
            | Keyword::AdditionalProperties
            | Keyword::MinProperties
            | Keyword::MaxProperties
            | Keyword::AllOf
            | Keyword::AnyOf
            | Keyword::OneOf
            | Keyword::Not
            | Keyword::If
            | Keyword::Then
            | Keyword::Else
            | Keyword::Contains
            | Keyword::MinContains
            | Keyword::MaxContains
            | Keyword::PatternProperties
            | Keyword::PropertyNames
            | Keyword::Dependencies
            | Keyword::DependentRequired
            | Keyword::DependentSchemas
            | Keyword::UnevaluatedItems
            | Keyword::UnevaluatedProperties
            | Keyword::Nullable
            | Keyword::Validations => Support::Checked,
            // Without a dynamic reference to it, a dynamic anchor is a plain anchor (and
            // `$recursiveAnchor` nothing at all): only the references are refused.
            Keyword::DynamicRef | Keyword::RecursiveRef => Support::Refused(
                "dynamic references are not supported: use a `$ref` to a JSON pointer or an anchor",
            ),
            Keyword::Vocabulary => Support::Refused("custom vocabularies are not supported"),
            Keyword::ContentMediaType | Keyword::ContentEncoding | Keyword::ContentSchema => {
                Support::Refused("string contents (media type, encoding) are not checked")
            }
        }
    }

    /// What the keyword's value is.
    pub const fn holds(self) -> Holds {
        match self {
            Keyword::AdditionalItems
            | Keyword::AdditionalProperties
            | Keyword::Contains
            | Keyword::UnevaluatedItems
            | Keyword::UnevaluatedProperties
            | Keyword::PropertyNames
            | Keyword::Not
            | Keyword::If
            | Keyword::Then
            | Keyword::Else
            | Keyword::ContentSchema => Holds::Schema,
            Keyword::AllOf | Keyword::AnyOf | Keyword::OneOf | Keyword::PrefixItems => {
                Holds::Schemas
            }
            Keyword::Properties
            | Keyword::PatternProperties
            | Keyword::Defs
            | Keyword::Definitions
            | Keyword::Dependencies
            | Keyword::DependentSchemas => Holds::SchemaMap,
            Keyword::Items => Holds::SchemaOrSchemas,
            _ => Holds::Value,
        }
    }
}

/// The JSON Schema dialect a catalog file is written in, from its root `$schema`.
///
/// Two rules differ between the dialects the generator reads: up to draft 7, keywords beside a
/// `$ref` are ignored (from 2019-09 on they apply too), and draft 4 spells `$id` `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Draft 4: as draft 7, with `id` for `$id`.
    Draft4,
    /// Draft 6 or 7: `$ref` replaces its sibling keywords.
    Draft7,
    /// 2019-09, 2020-12, or no `$schema` (RunComfy's catalog): `$ref` applies beside its
    /// siblings.
    #[default]
    Modern,
}

impl Dialect {
    /// The dialect a `$schema` URI names, if it is one the generator reads.
    pub fn from_uri(uri: &str) -> Option<Dialect> {
        let uri = uri.trim_end_matches('#');
        let uri = uri
            .strip_prefix("https://")
            .or_else(|| uri.strip_prefix("http://"))?;
        match uri {
            "json-schema.org/draft-04/schema" => Some(Dialect::Draft4),
            "json-schema.org/draft-06/schema" | "json-schema.org/draft-07/schema" => {
                Some(Dialect::Draft7)
            }
            "json-schema.org/draft/2019-09/schema" | "json-schema.org/draft/2020-12/schema" => {
                Some(Dialect::Modern)
            }
            _ => None,
        }
    }

    /// Whether keywords beside a `$ref` apply.
    pub const fn ref_siblings_apply(self) -> bool {
        matches!(self, Dialect::Modern)
    }

    /// What the generator does with `keyword` in this dialect: [`Keyword::support`], but for
    /// string contents (`contentMediaType`, `contentEncoding`, `contentSchema`), which from
    /// 2019-09 on are annotations by the standard's own word, never assertions. (Draft 7
    /// lets a validator check them, and its suite does: there they stay refused.)
    pub const fn support(self, keyword: Keyword) -> Support {
        match (self, keyword) {
            (
                Dialect::Modern,
                Keyword::ContentMediaType | Keyword::ContentEncoding | Keyword::ContentSchema,
            ) => Support::Annotation,
            _ => keyword.support(),
        }
    }

    /// The keyword a schema key names in this dialect, if any: [`Keyword::parse`], and
    /// draft 4's `id` (which later drafts do not know).
    pub fn keyword(self, key: &str) -> Option<Keyword> {
        match (self, key) {
            (Dialect::Draft4, "id") => Some(Keyword::Id),
            _ => Keyword::parse(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for keyword in Keyword::ALL {
            assert_eq!(Keyword::parse(keyword.name()), Some(*keyword));
        }
        let mut names: Vec<&str> = Keyword::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Keyword::ALL.len());
        assert_eq!(Keyword::parse("id"), None);
        assert_eq!(Keyword::parse("minlength"), None);
    }

    #[test]
    fn refused_keywords_say_why() {
        for keyword in [Keyword::ContentSchema, Keyword::DynamicRef] {
            assert!(matches!(keyword.support(), Support::Refused(why) if !why.is_empty()));
        }
        assert_eq!(Keyword::Pattern.support(), Support::Checked);
        assert_eq!(Keyword::Anchor.support(), Support::Structure);
        assert_eq!(Keyword::Title.support(), Support::Annotation);
    }

    #[test]
    fn vendor_extensions_are_known_by_their_prefix() {
        for key in ["x-order", "x-fal-order-properties", "_fal_ui_field"] {
            assert!(Keyword::is_extension(key), "{key}");
        }
        for key in ["step", "le", "$comment", "xorder"] {
            assert!(!Keyword::is_extension(key), "{key}");
        }
    }

    #[test]
    fn dialects() {
        assert_eq!(
            Dialect::from_uri("http://json-schema.org/draft-07/schema#"),
            Some(Dialect::Draft7)
        );
        assert_eq!(
            Dialect::from_uri("https://json-schema.org/draft/2020-12/schema"),
            Some(Dialect::Modern)
        );
        assert_eq!(Dialect::from_uri("https://example.com/my-meta"), None);
        assert!(!Dialect::Draft7.ref_siblings_apply());
        assert_eq!(
            Dialect::from_uri("http://json-schema.org/draft-04/schema#"),
            Some(Dialect::Draft4)
        );
        assert_eq!(Dialect::Draft4.keyword("id"), Some(Keyword::Id));
        assert_eq!(Dialect::Modern.keyword("id"), None);
        assert_eq!(
            Dialect::Modern.support(Keyword::ContentMediaType),
            Support::Annotation
        );
        assert!(matches!(
            Dialect::Draft7.support(Keyword::ContentEncoding),
            Support::Refused(_)
        ));
        assert_eq!(Dialect::Modern.keyword("$id"), Some(Keyword::Id));
    }
}
