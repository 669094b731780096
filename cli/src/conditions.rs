//! What a schema asks beyond a field's type, bounds and choices, in words, for `describe`:
//! `if`/`then`/`else`, `not`, `anyOf`/`oneOf`, `contains`, `dependencies`,
//! `patternProperties`, `propertyNames`, and an object field's properties.
//!
//! A schema is said as clauses about a subject (`` `mode` ``, "each item of `tags`"). Only what
//! these words cover is said: a schema holding anything else is not half said but named by its
//! keyword, with where to read it whole.

use runcomfy::catalog::{Field, ModelInfo};
use runcomfy::schema::{Condition, Dependency, Items, JsonType, Needs, Schema};

use crate::fields::{counted, span};

/// The conditions of a model's input as a whole: those of its root schema and of what its
/// `allOf` brings (a `$ref` included), which its fields do not show.
pub fn of_model(model: &ModelInfo) -> Vec<String> {
    let root = &Subject::Input;
    let mut out = Vec::new();
    for schema in model.input.in_place() {
        out.extend(sentences(schema, root, true, model.id));
    }
    out
}

/// The conditions of one field, beyond what its type line, bounds and choices say.
pub fn of_field(field: &Field, model_id: &str) -> Vec<String> {
    let subject = Subject::Path(field.name.to_owned());
    let each = Subject::Each(Box::new(subject.clone()));
    // What an object's properties are comes first: its type line says only "JSON".
    let mut shapes = Vec::new();
    let mut out = Vec::new();
    for schema in field.own_schemas() {
        shapes.extend(shape(schema, &subject, model_id));
        // Within itself (a union whose shapes hold it again), the field is said as itself.
        out.extend(within(schema, &subject, || {
            sentences(schema, &subject, false, model_id)
        }));
    }
    // A list's items are said the same way, about each item.
    if field.is_list() {
        for item in field.value_schemas() {
            shapes.extend(shape(item, &each, model_id));
            out.extend(sentences(item, &each, false, model_id));
        }
    }
    shapes.extend(out);
    // Two definitions of the field may say the same thing.
    let mut said: Vec<String> = Vec::new();
    for sentence in shapes {
        if !said.contains(&sentence) {
            said.push(sentence);
        }
    }
    said
}

/// The properties an object schema lists, and which it requires, in one sentence.
fn shape(schema: &Schema, subject: &Subject, model_id: &str) -> Option<String> {
    let object = schema.types.names(JsonType::Object);
    if !object || (schema.properties.is_empty() && schema.required.is_empty()) {
        return None;
    }
    let shape = Schema {
        types: schema.types,
        properties: schema.properties,
        required: schema.required,
        additional_properties: schema.additional_properties,
        ..Schema::ANY
    };
    let words = within(schema, subject, || clauses(&shape, subject, 0)).map(|c| join(&c));
    Some(sentence("properties", words, subject, model_id))
}

/// One sentence for each keyword of `schema` that a field's type line does not show. On a
/// field, `anyOf`/`oneOf` of a value or null is its type line's "may be null"; any other is
/// said here.
fn sentences(schema: &Schema, subject: &Subject, root: bool, model_id: &str) -> Vec<String> {
    let said = |keyword: &str, words: Option<String>| sentence(keyword, words, subject, model_id);
    let mut out = Vec::new();
    if let Some(condition) = schema.condition.filter(asks_something) {
        out.push(said("if", condition_words(&condition, subject, 0)));
    }
    if let Some(not) = schema.not {
        out.push(said("not", not_words(not, subject, 0)));
    }
    let said_as_type = |alternatives: &'static [&'static Schema]| {
        !root && Schema::lone_non_null(alternatives).is_some()
    };
    if !schema.any_of.is_empty() && !said_as_type(schema.any_of) {
        out.push(said(
            "anyOf",
            alternatives(schema.any_of, subject, "either", 0),
        ));
    }
    if !schema.one_of.is_empty() && !said_as_type(schema.one_of) {
        out.push(said(
            "oneOf",
            alternatives(schema.one_of, subject, "exactly one of", 0),
        ));
    }
    if let Some(contains) = schema.contains {
        let clause = contains_clause(
            contains,
            schema.min_contains,
            schema.max_contains,
            subject,
            0,
        );
        out.push(said("contains", clause.map(|c| join(&[c]))));
    }
    for dependency in schema.dependencies.iter().filter(|d| asks(d)) {
        out.push(said(
            "dependencies",
            dependency_words(dependency, subject, 0),
        ));
    }
    for pattern in schema.pattern_properties {
        let each = Subject::Phrase(format!(
            "each property of {} whose name matches `{}`",
            subject.text(),
            pattern.pattern.source
        ));
        out.push(said(
            "patternProperties",
            clauses(pattern.schema, &each, 0).map(|c| join(&c)),
        ));
    }
    if let Some(names) = schema.property_names {
        let each = Subject::Phrase(format!("each property name of {}", subject.text()));
        out.push(said(
            "propertyNames",
            clauses(names, &each, 0).map(|c| join(&c)),
        ));
    }
    // What the rest must be: the properties (items) that no schema applying to the value,
    // here or in a branch the value passes, names (covers).
    if let Some(rest) = schema.unevaluated_properties {
        let each = Subject::Phrase(format!(
            "each property of {} that none of its schemas (those of branches it passes \
             included) names",
            subject.text()
        ));
        out.push(said(
            "unevaluatedProperties",
            clauses(rest, &each, 0).map(|c| join(&c)),
        ));
    }
    if let Some(rest) = schema.unevaluated_items {
        let each = Subject::Phrase(format!(
            "each item of {} past those its schemas (those of branches it passes included) \
             cover",
            subject.text()
        ));
        out.push(said(
            "unevaluatedItems",
            clauses(rest, &each, 0).map(|c| join(&c)),
        ));
    }
    out
}

/// The words as a sentence; for words `None` (a schema they do not cover), one that names the
/// keyword and where to read it whole.
fn sentence(keyword: &str, words: Option<String>, subject: &Subject, model_id: &str) -> String {
    let text = words.unwrap_or_else(|| {
        format!(
            "`{keyword}` of {} is not put into words here; `runcomfy describe {model_id} --json` \
             holds the whole schema (`input_schema`)",
            subject.text()
        )
    });
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    format!("{}{}.", first.unwrap_or_default(), chars.as_str())
}

/// How deep the words go into schemas within schemas before they name the keyword instead.
const MAX_DEPTH: usize = 8;

/// What a clause is about.
#[derive(Debug, Clone)]
enum Subject {
    /// The input object itself.
    Input,
    /// A property, by its path from the input (`size`, `style.weight`).
    Path(String),
    /// Each item of a list.
    Each(Box<Subject>),
    /// Anything else, said in full ("each property name of `x`").
    Phrase(String),
}

impl Subject {
    fn text(&self) -> String {
        match self {
            Subject::Input => "the input".to_owned(),
            Subject::Path(path) => format!("`{path}`"),
            Subject::Each(list) => format!("each item of {}", list.text()),
            Subject::Phrase(text) => text.clone(),
        }
    }

    /// The property `name` of this subject.
    fn property(&self, name: &str) -> Subject {
        match self {
            Subject::Input => Subject::Path(name.to_owned()),
            Subject::Path(path) => Subject::Path(format!("{path}.{name}")),
            other => Subject::Phrase(format!("`{name}` of {}", other.text())),
        }
    }
}

/// A subject and what is said of it ("is given", "has at least 1 item"), or a whole sentence
/// (`subject` empty).
#[derive(Debug)]
struct Clause {
    subject: String,
    predicate: String,
}

impl Clause {
    fn of(subject: &Subject, predicate: impl Into<String>) -> Clause {
        Clause {
            subject: subject.text(),
            predicate: predicate.into(),
        }
    }

    fn sentence(text: String) -> Clause {
        Clause {
            subject: String::new(),
            predicate: text,
        }
    }
}

/// Clauses said together: what is said of one subject in a row shares it (`` `a` is given,
/// is a list and has at least 1 item ``).
fn join(clauses: &[Clause]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for clause in clauses {
        match groups.last_mut() {
            Some((subject, predicates)) if !subject.is_empty() && *subject == clause.subject => {
                predicates.push(&clause.predicate)
            }
            _ => groups.push((&clause.subject, vec![&clause.predicate])),
        }
    }
    let mut said: Vec<String> = Vec::new();
    let mut given: Vec<&str> = Vec::new();
    for (subject, predicates) in groups {
        // Properties only said to be given, in a row, are said together.
        if !subject.is_empty() && predicates == [GIVEN] {
            given.push(subject);
            continue;
        }
        said.extend(given_together(&mut given));
        let predicates = and_list(&predicates);
        said.push(if subject.is_empty() {
            predicates
        } else {
            format!("{subject} {predicates}")
        });
    }
    said.extend(given_together(&mut given));
    if said.is_empty() {
        return "anything is given".to_owned();
    }
    and_list(&said.iter().map(String::as_str).collect::<Vec<_>>())
}

const GIVEN: &str = "is given";

/// `` `a` is given ``, `` `a` and `b` are given ``; empties `subjects`.
fn given_together(subjects: &mut Vec<&str>) -> Option<String> {
    let said = match subjects.as_slice() {
        [] => None,
        [one] => Some(format!("{one} {GIVEN}")),
        many => Some(format!("{} are given", and_list(many))),
    };
    subjects.clear();
    said
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Several clauses read as one alternative: in parentheses when there is more than one.
fn grouped(clauses: &[Clause]) -> String {
    let text = join(clauses);
    if clauses.len() > 1 {
        format!("({text})")
    } else {
        text
    }
}

/// An `if` with neither `then` nor `else` asks nothing.
fn asks_something(condition: &Condition) -> bool {
    condition.then.is_some() || condition.otherwise.is_some()
}

fn condition_words(condition: &Condition, subject: &Subject, depth: usize) -> Option<String> {
    let test = join(&clauses(condition.test, subject, depth)?);
    // `Some(None)`: no branch; `None`: a branch these words do not cover.
    let branch = |schema: Option<&Schema>| match schema {
        None => Some(None),
        Some(schema) => clauses(schema, subject, depth).map(|c| Some(join(&c))),
    };
    let then = branch(condition.then)?;
    let otherwise = branch(condition.otherwise)?;
    Some(match (then, otherwise) {
        (Some(then), Some(otherwise)) => format!("if {test}, then {then}; otherwise {otherwise}"),
        (Some(then), None) => format!("if {test}, then {then}"),
        (None, Some(otherwise)) => format!("unless {test}, {otherwise}"),
        (None, None) => String::new(),
    })
}

fn not_words(not: &Schema, subject: &Subject, depth: usize) -> Option<String> {
    // `not` of one optional property and nothing else: an absent property passes what it
    // negates, so it asks for the property ("`q` is given and it may not be that `q` is at
    // least 5", not "it may not be that `q` is not given or is at least 5").
    if let [property] = not.properties
        && !not.requires(property.name)
        && !property.schema.is_never()
    {
        let rest = Schema {
            properties: &[],
            ..*not
        };
        let child = subject.property(property.name);
        let said = clauses(property.schema, &child, depth + 1)?;
        if clauses(&rest, subject, depth)?.is_empty() && !said.is_empty() {
            return Some(format!(
                "{} is given and it may not be that {}",
                child.text(),
                join(&said)
            ));
        }
    }
    let clauses = clauses(not, subject, depth)?;
    Some(format!("it may not be that {}", join(&clauses)))
}

fn alternatives(
    schemas: &[&Schema],
    subject: &Subject,
    lead: &str,
    depth: usize,
) -> Option<String> {
    // A `false` branch never passes: it is no alternative (unless all are).
    let live: Vec<&&Schema> = schemas.iter().filter(|s| !s.is_never()).collect();
    let said: Option<Vec<Vec<Clause>>> = live
        .iter()
        .map(|schema| clauses(schema, subject, depth))
        .collect();
    match said?.as_slice() {
        [] => clauses(&Schema::NEVER, subject, depth).map(|c| join(&c)),
        [one] => Some(join(one)),
        said => {
            let said: Vec<String> = said.iter().map(|c| grouped(c)).collect();
            Some(format!("{lead} {}", said.join(" or ")))
        }
    }
}

fn contains_clause(
    contains: &Schema,
    min: Option<u64>,
    max: Option<u64>,
    subject: &Subject,
    depth: usize,
) -> Option<Clause> {
    let item = Subject::Phrase("the item".to_owned());
    let what = join(&clauses(contains, &item, depth)?);
    // `minContains` is 1 when `contains` is alone.
    let count = span(Some(min.unwrap_or(1)), max, |n| {
        counted(*n, "item", "items")
    });
    Some(Clause::of(
        subject,
        format!("has {} where {what}", count.unwrap_or_default()),
    ))
}

/// A dependency on an empty list of names asks nothing.
fn asks(dependency: &Dependency) -> bool {
    !matches!(dependency.needs, Needs::Properties([]))
}

fn dependency_words(dependency: &Dependency, subject: &Subject, depth: usize) -> Option<String> {
    let given = subject.property(dependency.name).text();
    Some(match dependency.needs {
        Needs::Properties(names) => {
            let names: Vec<String> = names
                .iter()
                .map(|name| subject.property(name).text())
                .collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let verb = if names.len() == 1 { "is" } else { "are" };
            format!("if {given} is given, {} {verb} given too", and_list(&names))
        }
        Needs::Schema(schema) => {
            format!(
                "if {given} is given, {}",
                join(&clauses(schema, subject, depth)?)
            )
        }
    })
}

thread_local! {
    /// The schemas being said, outermost first, each with its subject: a schema met again
    /// inside itself (`{"$ref": "#/$defs/Node"}` under a `Node`) is said by pointing back.
    static SAYING: std::cell::RefCell<Vec<(usize, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What `schema` asks of `subject`, clause by clause; `None` when it holds a keyword these
/// words do not cover. A schema within itself is "as" its outer subject is.
fn clauses(schema: &Schema, subject: &Subject, depth: usize) -> Option<Vec<Clause>> {
    let address = std::ptr::from_ref(schema) as usize;
    let outer = SAYING.with_borrow(|saying| {
        saying
            .iter()
            .find(|(at, _)| *at == address)
            .map(|(_, outer)| outer.clone())
    });
    if let Some(outer) = outer {
        return Some(vec![Clause::of(subject, format!("is as {outer} is"))]);
    }
    within(schema, subject, || schema_clauses(schema, subject, depth))
}

/// `say`, with `schema` known to be being said of `subject` meanwhile.
fn within<T>(schema: &Schema, subject: &Subject, say: impl FnOnce() -> T) -> T {
    let address = std::ptr::from_ref(schema) as usize;
    SAYING.with_borrow_mut(|saying| saying.push((address, subject.text())));
    let said = say();
    SAYING.with_borrow_mut(|saying| saying.pop());
    said
}

/// [`clauses`] of a schema not within itself. Every field of [`Schema`] is named here, so a
/// new keyword cannot be left out unnoticed.
fn schema_clauses(schema: &Schema, subject: &Subject, depth: usize) -> Option<Vec<Clause>> {
    // Deeper than this, words stop helping.
    if depth > MAX_DEPTH {
        return None;
    }
    let inner = depth + 1;
    let Schema {
        types,
        choices,
        constant,
        minimum,
        maximum,
        exclusive_minimum,
        exclusive_maximum,
        multiple_of,
        min_length,
        max_length,
        pattern,
        format,
        media,
        items,
        min_items,
        max_items,
        unique_items,
        contains,
        min_contains,
        max_contains,
        properties,
        required,
        additional_properties,
        pattern_properties,
        property_names,
        dependencies,
        min_properties,
        max_properties,
        unevaluated_properties,
        unevaluated_items,
        all_of,
        any_of,
        one_of,
        not,
        condition,
        title: _,
        description: _,
        default: _,
    } = schema;
    if !pattern_properties.is_empty()
        || property_names.is_some()
        || unevaluated_items.is_some()
        || unevaluated_properties.is_some_and(|rest| !rest.is_never())
    {
        return None;
    }
    let mut out = Vec::new();
    let mut is = |predicate: String| out.push(Clause::of(subject, predicate));
    if types.is_empty() {
        is("is not allowed".to_owned());
    } else if !types.is_any() {
        is(format!("is {}", types.phrase()));
    }
    if let Some(choices) = choices {
        let values: Vec<String> = choices.iter().map(|c| c.value.to_string()).collect();
        match values.as_slice() {
            [one] => is(format!("is {one}")),
            _ => is(format!("is one of {}", values.join(", "))),
        }
    }
    if let Some(constant) = constant {
        is(format!("is {constant}"));
    }
    is_some(
        &mut is,
        span(*minimum, *maximum, ToString::to_string).map(|s| format!("is {s}")),
    );
    if let Some(n) = exclusive_minimum {
        is(format!("is greater than {n}"));
    }
    if let Some(n) = exclusive_maximum {
        is(format!("is less than {n}"));
    }
    if let Some(n) = multiple_of {
        is(format!("is a multiple of {n}"));
    }
    is_some(
        &mut is,
        span(*min_length, *max_length, |n| {
            counted(*n, "character", "characters")
        })
        .map(|s| format!("has {s}")),
    );
    if let Some(pattern) = pattern {
        is(format!("matches `{}`", pattern.source));
    }
    if let Some(format) = format {
        is(format!("is {}", format.describe()));
    }
    if let Some(spec) = media {
        // A media `format` said the kind already; `validations` alone did not.
        if format.is_none_or(|f| f.media().is_none()) {
            is(format!("is {}", spec.kind.a_file()));
        }
        let formats: Vec<&str> = spec.formats.iter().map(|f| f.name()).collect();
        if !formats.is_empty() {
            is(format!("is {}", formats.join(" or ")));
        }
        for rule in spec.rules {
            is(rule.rule.phrase(rule.limit));
        }
    }
    is_some(
        &mut is,
        span(*min_items, *max_items, |n| counted(*n, "item", "items")).map(|s| format!("has {s}")),
    );
    if *unique_items {
        is("has no two equal items".to_owned());
    }
    is_some(
        &mut is,
        span(*min_properties, *max_properties, |n| {
            counted(*n, "property", "properties")
        })
        .map(|s| format!("has {s}")),
    );
    if let Some(false_schema) = additional_properties {
        if !false_schema.types.is_empty() {
            return None;
        }
        is("has no other properties".to_owned());
    }
    if unevaluated_properties.is_some() {
        is("has no properties but those its schemas name".to_owned());
    }
    match items {
        Items::Any => {}
        Items::Each(item) => out.extend(clauses(
            item,
            &Subject::Each(Box::new(subject.clone())),
            inner,
        )?),
        Items::Tuple { .. } => return None,
    }
    if let Some(contains) = contains {
        out.push(contains_clause(
            contains,
            *min_contains,
            *max_contains,
            subject,
            inner,
        )?);
    }
    for name in *required {
        if !properties.iter().any(|p| p.name == *name) {
            out.push(Clause::of(&subject.property(name), GIVEN));
        }
    }
    for property in *properties {
        let child = subject.property(property.name);
        if property.schema.is_never() {
            // No value passes `false`: the property may only be absent.
            out.push(Clause::of(&child, "is not given"));
        } else if required.contains(&property.name) {
            out.push(Clause::of(&child, GIVEN));
            out.extend(clauses(property.schema, &child, inner)?);
        } else {
            // A property's schema holds only when it is given: an absent one passes it.
            let said = clauses(property.schema, &child, inner)?;
            if !said.is_empty() {
                let name = child.text();
                let only_its_own = said.iter().all(|c| c.subject == name);
                let what = if only_its_own {
                    let predicates: Vec<&str> = said.iter().map(|c| c.predicate.as_str()).collect();
                    let predicates = and_list(&predicates);
                    if said.len() > 1 {
                        format!("({predicates})")
                    } else {
                        predicates
                    }
                } else {
                    grouped(&said)
                };
                out.push(Clause::sentence(format!("{name} is not given or {what}")));
            }
        }
    }
    for dependency in dependencies.iter().filter(|d| asks(d)) {
        out.push(Clause::sentence(dependency_words(
            dependency, subject, inner,
        )?));
    }
    for member in *all_of {
        out.extend(clauses(member, subject, inner)?);
    }
    if !any_of.is_empty() {
        out.push(Clause::sentence(alternatives(
            any_of, subject, "either", inner,
        )?));
    }
    if !one_of.is_empty() {
        out.push(Clause::sentence(alternatives(
            one_of,
            subject,
            "exactly one of",
            inner,
        )?));
    }
    if let Some(not) = not {
        out.push(Clause::sentence(not_words(not, subject, inner)?));
    }
    if let Some(condition) = condition.filter(asks_something) {
        out.push(Clause::sentence(condition_words(
            &condition, subject, inner,
        )?));
    }
    Some(out)
}

fn is_some(is: &mut impl FnMut(String), predicate: Option<String>) {
    if let Some(predicate) = predicate {
        is(predicate);
    }
}

#[cfg(test)]
mod tests {
    use runcomfy::schema::{Json, Pattern, PatternProperty, Property, Types};

    use super::*;

    const LIST: Schema = Schema {
        types: Types::ARRAY,
        min_items: Some(1),
        ..Schema::ANY
    };

    fn given(name: &'static str, schema: &'static Schema) -> Schema {
        Schema {
            required: Box::leak(Box::new([name])),
            properties: Box::leak(Box::new([Property { name, schema }])),
            ..Schema::ANY
        }
    }

    fn leak(schema: Schema) -> &'static Schema {
        Box::leak(Box::new(schema))
    }

    fn said(schema: &'static Schema) -> Vec<String> {
        sentences(schema, &Subject::Input, true, "acme/test")
    }

    /// fal's Seedance 2.0: audio needs an image or a video beside it.
    #[test]
    fn a_condition_across_fields_reads_as_one_sentence() {
        let then = leak(Schema {
            any_of: Box::leak(Box::new([
                leak(given("image_urls", &LIST)),
                leak(given("video_urls", &LIST)),
            ])),
            ..Schema::ANY
        });
        let root = leak(Schema {
            condition: Some(Condition {
                test: leak(given("audio_urls", &LIST)),
                then: Some(then),
                otherwise: None,
            }),
            ..Schema::ANY
        });
        assert_eq!(
            said(root),
            [
                "If `audio_urls` is given, is an array and has at least 1 item, then either \
              (`image_urls` is given, is an array and has at least 1 item) or (`video_urls` is \
              given, is an array and has at least 1 item)."
            ]
        );
    }

    #[test]
    fn dependencies_not_and_contains() {
        let root = leak(Schema {
            dependencies: Box::leak(Box::new([Dependency {
                name: "width",
                needs: Needs::Properties(&["height", "unit"]),
            }])),
            not: Some(leak(Schema {
                required: &["a", "b"],
                ..Schema::ANY
            })),
            ..Schema::ANY
        });
        assert_eq!(
            said(root),
            [
                "It may not be that `a` and `b` are given.",
                "If `width` is given, `height` and `unit` are given too.",
            ]
        );
        static UPSCALE: Json = Json::String("upscale");
        let tags = leak(Schema {
            contains: Some(leak(Schema {
                constant: Some(&UPSCALE),
                ..Schema::ANY
            })),
            max_contains: Some(1),
            ..Schema::ANY
        });
        let subject = Subject::Path("tags".to_owned());
        assert_eq!(
            sentences(tags, &subject, false, "acme/test"),
            ["`tags` has exactly 1 item where the item is \"upscale\"."]
        );
    }

    /// A property's schema holds only when it is given: the words say an absent one passes.
    #[test]
    fn an_optional_property_in_a_condition_may_also_be_absent() {
        static A: Json = Json::String("a");
        let mode = leak(Schema {
            constant: Some(&A),
            ..Schema::ANY
        });
        let root = leak(Schema {
            condition: Some(Condition {
                test: leak(Schema {
                    properties: Box::leak(Box::new([Property {
                        name: "mode",
                        schema: mode,
                    }])),
                    ..Schema::ANY
                }),
                then: Some(leak(Schema {
                    required: &["x"],
                    ..Schema::ANY
                })),
                otherwise: Some(&Schema::NEVER),
            }),
            dependencies: &[Dependency {
                name: "b",
                needs: Needs::Properties(&[]),
            }],
            ..Schema::ANY
        });
        assert_eq!(
            said(root),
            [
                "If `mode` is not given or is \"a\", then `x` is given; otherwise the input is not \
              allowed."
            ]
        );
        // A field's `anyOf` other than "a value or null" is said; that one is its type line's.
        let steps = leak(Schema {
            any_of: Box::leak(Box::new([
                leak(Schema {
                    types: Types::INTEGER,
                    ..Schema::ANY
                }),
                leak(Schema {
                    constant: Some(&A),
                    ..Schema::ANY
                }),
            ])),
            ..Schema::ANY
        });
        let subject = Subject::Path("steps".to_owned());
        assert_eq!(
            sentences(steps, &subject, false, "acme/test"),
            ["Either `steps` is an integer or `steps` is \"a\"."]
        );
        let nullable = leak(Schema {
            any_of: Box::leak(Box::new([
                leak(Schema {
                    types: Types::INTEGER,
                    ..Schema::ANY
                }),
                leak(Schema {
                    types: Types::NULL,
                    ..Schema::ANY
                }),
            ])),
            ..Schema::ANY
        });
        assert!(sentences(nullable, &subject, false, "acme/test").is_empty());
    }

    /// A layout tree: each child is a node as the root is.
    #[test]
    fn a_tree_s_children_are_said_as_its_root() {
        static CHILDREN: Schema = Schema {
            types: Types::ARRAY,
            items: Items::Each(&NODE),
            ..Schema::ANY
        };
        static KIND: Schema = Schema {
            choices: Some(&[
                runcomfy::schema::Choice::new(Json::String("row")),
                runcomfy::schema::Choice::new(Json::String("image")),
            ]),
            ..Schema::ANY
        };
        static NODE: Schema = Schema {
            types: Types::OBJECT,
            required: &["kind"],
            properties: &[
                Property {
                    name: "kind",
                    schema: &KIND,
                },
                Property {
                    name: "children",
                    schema: &CHILDREN,
                },
            ],
            ..Schema::ANY
        };
        static INPUT: Schema = Schema {
            properties: &[Property {
                name: "root",
                schema: &NODE,
            }],
            ..Schema::ANY
        };
        let field = Field {
            name: "root",
            schema: &NODE,
            required: true,
            input: &INPUT,
        };
        let said = of_field(&field, "acme/test").join(" ");
        assert!(
            said.contains("each item of `root.children` is as `root` is"),
            "{said}"
        );
        assert!(!said.contains("not put into words"), "{said}");
    }

    /// A union whose group shape holds the union again, its shapes `$ref`s that extend a base
    /// (QA repro30 L4): said by pointing back, before the words get too deep to say.
    #[test]
    fn a_union_within_itself_is_said_by_pointing_back() {
        static TEXT: Schema = Schema {
            types: Types::STRING,
            ..Schema::ANY
        };
        static BASE: Schema = Schema {
            types: Types::OBJECT,
            required: &["kind"],
            properties: &[Property {
                name: "kind",
                schema: &TEXT,
            }],
            ..Schema::ANY
        };
        static BASE_REF: Schema = Schema {
            all_of: &[&BASE],
            ..Schema::ANY
        };
        static CIRCLE: Schema = Schema {
            all_of: &[&BASE_REF],
            types: Types::OBJECT,
            required: &["r"],
            ..Schema::ANY
        };
        static CIRCLE_REF: Schema = Schema {
            all_of: &[&CIRCLE],
            ..Schema::ANY
        };
        static SHAPE_REF: Schema = Schema {
            all_of: &[&SHAPE],
            ..Schema::ANY
        };
        static MEMBERS: Schema = Schema {
            types: Types::ARRAY,
            items: Items::Each(&SHAPE_REF),
            ..Schema::ANY
        };
        static GROUP: Schema = Schema {
            types: Types::OBJECT,
            required: &["items"],
            properties: &[Property {
                name: "items",
                schema: &MEMBERS,
            }],
            ..Schema::ANY
        };
        static GROUP_REF: Schema = Schema {
            all_of: &[&GROUP],
            ..Schema::ANY
        };
        static SHAPE: Schema = Schema {
            one_of: &[&CIRCLE_REF, &GROUP_REF],
            ..Schema::ANY
        };
        static INPUT: Schema = Schema {
            properties: &[Property {
                name: "shape",
                schema: &SHAPE_REF,
            }],
            ..Schema::ANY
        };
        let field = Field {
            name: "shape",
            schema: &SHAPE_REF,
            required: true,
            input: &INPUT,
        };
        let said = of_field(&field, "acme/test").join(" ");
        assert!(!said.contains("not put into words"), "{said}");
        assert!(
            said.contains("each item of `shape.items` is as `shape` is"),
            "{said}"
        );
    }

    /// The objects of a list are said about each item, and each definition of a field (the
    /// input's `allOf` members may hold more) is said.
    #[test]
    fn objects_in_a_list_and_a_field_defined_twice_are_said() {
        let item = leak(Schema {
            types: Types::OBJECT,
            ..given(
                "path",
                leak(Schema {
                    types: Types::STRING,
                    ..Schema::ANY
                }),
            )
        });
        let loras = leak(Schema {
            types: Types::ARRAY,
            items: Items::Each(item),
            ..Schema::ANY
        });
        let input = leak(given("loras", loras));
        let field = Field {
            name: "loras",
            schema: loras,
            required: true,
            input,
        };
        assert_eq!(
            of_field(&field, "acme/test"),
            [
                "Each item of `loras` is an object and `path` of each item of `loras` is given and \
              is a string."
            ]
        );
        // A member of the input says `loras` is an object: no value is both.
        let object = Schema {
            types: Types::OBJECT,
            ..given("n", &LIST)
        };
        let member = leak(given("loras", leak(object)));
        let input = leak(Schema {
            all_of: Box::leak(Box::new([member])),
            ..*input
        });
        let twice = Field { input, ..field };
        // What the member says is said; no list is left whose items to describe.
        assert_eq!(of_field(&twice, "acme/test").len(), 1);
        assert_eq!(
            crate::fields::type_line(&twice),
            "Never valid: no value passes its schemas"
        );
    }

    /// What `unevaluatedProperties` and `unevaluatedItems` ask is said, or a property only a
    /// branch names reads as allowed whatever the branch.
    #[test]
    fn what_no_schema_names_is_said() {
        let root = leak(Schema {
            unevaluated_properties: Some(&Schema::NEVER),
            unevaluated_items: Some(leak(Schema {
                types: Types::STRING,
                max_length: Some(2),
                ..Schema::ANY
            })),
            ..Schema::ANY
        });
        assert_eq!(
            said(root),
            [
                "Each property of the input that none of its schemas (those of branches it \
                 passes included) names is not allowed.",
                "Each item of the input past those its schemas (those of branches it passes \
                 included) cover is a string and has at most 2 characters."
            ]
        );
    }

    /// No double negative for `not` of an optional property, and no `false` alternative.
    #[test]
    fn negations_and_dead_branches_read_plainly() {
        let at_least_5 = leak(Schema {
            minimum: Some(runcomfy::Number::from_i64(5)),
            ..Schema::ANY
        });
        let root = leak(Schema {
            not: Some(leak(Schema {
                properties: Box::leak(Box::new([Property {
                    name: "q",
                    schema: at_least_5,
                }])),
                ..Schema::ANY
            })),
            any_of: Box::leak(Box::new([
                &Schema::NEVER,
                leak(given(
                    "a",
                    leak(Schema {
                        types: Types::INTEGER,
                        ..Schema::ANY
                    }),
                )),
            ])),
            ..Schema::ANY
        });
        assert_eq!(
            said(root),
            [
                "`q` is given and it may not be that `q` is at least 5.",
                "`a` is given and is an integer."
            ]
        );
    }

    /// A mask that is an image or a box (QA repro28 #10): the file's branch is said too.
    #[test]
    fn a_media_alternative_is_said_with_its_formats_and_rules() {
        use runcomfy::schema::{Format, MediaFormat, MediaKind, MediaRule, MediaSpec, Rule};
        static SPEC: MediaSpec = MediaSpec {
            kind: MediaKind::Image,
            formats: &[MediaFormat::Png],
            rules: &[MediaRule {
                rule: Rule::WidthAbove,
                limit: 14.0,
                message: "too narrow",
            }],
        };
        static BOX: Schema = Schema {
            types: Types::OBJECT,
            required: &["w"],
            ..Schema::ANY
        };
        let subject = Subject::Path("mask".to_owned());
        let mask = |format: Option<Format>| {
            let image = leak(Schema {
                types: Types::STRING,
                format,
                media: Some(&SPEC),
                ..Schema::ANY
            });
            let mask = leak(Schema {
                one_of: Box::leak(Box::new([image, &BOX])),
                ..Schema::ANY
            });
            sentences(mask, &subject, false, "acme/test")
        };
        let expected = [
            "Exactly one of (`mask` is a string, is an image, is png and is over 14 pixels wide) \
             or (`mask` is an object and `mask.w` is given).",
        ];
        // Said once, whether a media `format` or `validations` alone made it a file.
        assert_eq!(mask(Format::parse("image_uri")), expected);
        assert_eq!(mask(None), expected);
    }

    /// A schema within itself is said by pointing back to where it began: never an endless
    /// sentence, nor none (QA repro28 #10).
    #[test]
    fn a_recursive_schema_is_said_by_pointing_back() {
        static NODE: Schema = Schema {
            types: Types::OBJECT,
            properties: &[Property {
                name: "child",
                schema: &NODE,
            }],
            ..Schema::ANY
        };
        static ROOT: Schema = Schema {
            not: Some(&NODE),
            ..Schema::ANY
        };
        assert_eq!(
            said(&ROOT),
            [
                "It may not be that the input is an object and `child` is not given or is as the \
              input is."
            ]
        );
    }

    /// What the words do not cover is named by its keyword, never half said.
    #[test]
    fn what_words_do_not_cover_is_named() {
        static ANCHORED: Pattern = Pattern::new("^x-");
        let tuple = leak(Schema {
            items: Items::Tuple {
                prefix: &[],
                rest: None,
            },
            ..Schema::ANY
        });
        let metadata = leak(Schema {
            pattern_properties: Box::leak(Box::new([PatternProperty {
                pattern: &ANCHORED,
                schema: tuple,
            }])),
            ..Schema::ANY
        });
        let subject = Subject::Path("metadata".to_owned());
        assert_eq!(
            sentences(metadata, &subject, false, "acme/test"),
            [
                "`patternProperties` of `metadata` is not put into words here; `runcomfy describe \
              acme/test --json` holds the whole schema (`input_schema`)."
            ]
        );
        // An `if` with neither `then` nor `else` asks nothing.
        let idle = leak(Schema {
            condition: Some(Condition {
                test: tuple,
                then: None,
                otherwise: None,
            }),
            ..Schema::ANY
        });
        assert!(said(idle).is_empty());
    }
}
