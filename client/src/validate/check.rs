//! The validator: checks a value against a [`Schema`], keyword by keyword, and reports every
//! problem at once. Typed inputs and JSON inputs go through it alike ([`Instance`]).

use runcomfy_vocab::json_type::JsonType;
use runcomfy_vocab::pointer::{Path, Step};

use super::instance::{Array, Instance, View, find};
use super::{equal, evaluated};
use crate::media::{self, Files, Media};
use crate::number::Number;
use crate::report::{Problem, ValidationReport};
use crate::schema::{Dependency, Json, Needs, Schema, Types};

/// Checks `value` against `schema`, adding its problems to `report` at `path`.
pub fn check(
    report: &mut ValidationReport,
    schema: &'static Schema,
    value: &dyn Instance,
    path: &Path,
    files: Files,
    strings: Strings,
) {
    let mut inline = media::Inline::default();
    Checker {
        report,
        files,
        strings,
        inline: &mut inline,
    }
    .node(schema, value.view(), At::Start(path));
}

/// [`check`] of a whole input, at its root: the media it sends inline are also checked
/// together against what a request may carry.
pub fn input(
    report: &mut ValidationReport,
    schema: &'static Schema,
    value: &dyn Instance,
    files: Files,
    strings: Strings,
) {
    let mut inline = media::Inline::default();
    Checker {
        report: &mut *report,
        files,
        strings,
        inline: &mut inline,
    }
    .node(schema, value.view(), At::Start(&Path::root()));
    inline.check(report);
}

/// What a string is where a media file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strings {
    /// It names the file, read as the typed input's `Media` would read it (a JSON input).
    NameFiles,
    /// It is sent as the text it is (text of a typed input): a local path there would reach
    /// the server as a path, never as the file.
    AreText,
}

/// Where the checker is: the path it started at and the steps taken since, borrowed. It becomes
/// a [`Path`] only when a problem is reported there: most values have none, and a `Path` per
/// visited value was most of what validating a valid input allocated.
#[derive(Clone, Copy)]
enum At<'a> {
    Start(&'a Path),
    Step(&'a At<'a>, Step<'a>),
}

impl At<'_> {
    fn key<'a>(&'a self, key: &'a str) -> At<'a> {
        At::Step(self, Step::Key(key))
    }

    fn index(&self, index: usize) -> At<'_> {
        At::Step(self, Step::Index(index))
    }

    fn path(&self) -> Path {
        match self {
            At::Start(path) => (*path).clone(),
            At::Step(parent, step) => parent.path().step(*step),
        }
    }
}

struct Checker<'r> {
    report: &'r mut ValidationReport,
    files: Files,
    strings: Strings,
    /// The media seen, a branch's too (whichever branch passes, the item is sent).
    inline: &'r mut media::Inline,
}

impl Checker<'_> {
    fn node(&mut self, schema: &'static Schema, view: View<'_>, at: At<'_>) {
        if schema.is_never() {
            return self.error(at, "false", None, "is not allowed here".to_owned());
        }
        let Some(ty) = view.json_type() else {
            let message = "must be a finite number (NaN and infinities are not JSON)".to_owned();
            return self.error(at, "type", Some(short(view)), message);
        };
        if !schema.types.allows(ty) {
            let mut message = format!("must be {}", schema.types.phrase());
            if let Some(choices) = schema.choices {
                let list: Vec<String> = choices.iter().map(|c| c.text()).collect();
                message.push_str(&format!(", one of: {}", list.join(", ")));
            }
            return self.error(at, "type", Some(short(view)), message);
        }
        if let Some(choices) = schema.choices
            && !choices.iter().any(|c| equal::json(view, &c.value))
        {
            let list: Vec<String> = choices.iter().map(|c| c.text()).collect();
            let message = format!("must be one of: {}", list.join(", "));
            self.error(at, "enum", Some(short(view)), message);
        }
        if let Some(constant) = schema.constant
            && !equal::json(view, constant)
        {
            let message = format!("must be {constant}");
            self.error(at, "const", Some(short(view)), message);
        }
        match view {
            View::Number(n) => self.number(schema, n, at),
            View::String(text) => self.string(schema, text, at),
            View::Media(media) => self.media(schema, media, at),
            View::Array(_) => self.array(schema, view, at),
            View::Object(_) => self.object(schema, view, at),
            View::Null | View::Bool(_) => {}
        }
        for sub in schema.all_of {
            self.node(sub, view, at);
        }
        if !schema.any_of.is_empty() {
            let matched = schema.any_of.iter().any(|s| self.passes(s, view, at));
            if !matched {
                self.no_alternative("anyOf", schema.any_of, view, at, || {
                    format!(
                        "must match at least one of {} alternatives (anyOf)",
                        schema.any_of.len()
                    )
                });
            }
        }
        if !schema.one_of.is_empty() {
            let matched = schema
                .one_of
                .iter()
                .filter(|s| self.passes(s, view, at))
                .count();
            if matched == 0 {
                self.no_alternative("oneOf", schema.one_of, view, at, || {
                    format!(
                        "must match exactly one of {} alternatives (oneOf); it matches none",
                        schema.one_of.len()
                    )
                });
            } else if matched > 1 {
                let message = format!(
                    "must match exactly one of {} alternatives (oneOf); it matches {matched}",
                    schema.one_of.len()
                );
                self.error(at, "oneOf", Some(short(view)), message);
            }
        }
        if let Some(not) = schema.not
            && self.matches(not, view, at)
        {
            match not.only_required() {
                // `not: {required: [...]}`: said of the properties, as what may not be given.
                Some([one]) => {
                    self.error(at.key(one), "not", None, "must not be given here".into())
                }
                Some(names) => {
                    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                    let message = format!("{} must not all be given here", names.join(", "));
                    self.error(at, "not", Some(short(view)), message);
                }
                None => {
                    let message = "is ruled out: it passes the schema under `not`".to_owned();
                    self.error(at, "not", Some(short(view)), message);
                }
            }
        }
        if let Some(condition) = schema.condition {
            // The branch's own problems say why, under their own keywords.
            let branch = if self.matches(condition.test, view, at) {
                condition.then
            } else {
                condition.otherwise
            };
            if let Some(branch) = branch {
                self.node(branch, view, at);
            }
        }
    }

    /// A value no alternative of `anyOf`/`oneOf` takes. When one alternative alone could take
    /// a value of its JSON type (X of `[X, {"type": "null"}]`, the object of `[an enum of
    /// words, an object]`), its own errors say why (`height: must be at most 14142`); else one
    /// error.
    fn no_alternative(
        &mut self,
        keyword: &'static str,
        alternatives: &'static [&'static Schema],
        view: View<'_>,
        at: At<'_>,
        message: impl FnOnce() -> String,
    ) {
        let ty = view.json_type();
        let fitting = Schema::lone_non_null(alternatives).or_else(|| {
            let ty = ty?;
            let typed: Vec<&'static Schema> = alternatives
                .iter()
                .copied()
                .filter(|s| s.admitted_types().allows(ty))
                .collect();
            // Several shapes of object: the one the object's tags pick (a union's `mode`).
            lone(typed.iter().copied())
                .or_else(|| lone(typed.iter().copied().filter(|s| tags_agree(s, view))))
        });
        match fitting {
            Some(alternative) if !matches!(view, View::Null) => self.node(alternative, view, at),
            _ => {
                if let Some((tag, values)) = unknown_tag(alternatives, view) {
                    let list: Vec<String> = values.iter().map(ToString::to_string).collect();
                    let message = format!("must be one of: {}", list.join(", "));
                    let given = match view {
                        View::Object(object) => object.get(tag).map(|v| short(v.view())),
                        _ => None,
                    };
                    return self.error(at.key(tag), keyword, given, message);
                }
                // No alternative takes a value of this type: say which types they take.
                let taken = alternatives
                    .iter()
                    .fold(Types::NONE, |taken, s| taken.with(s.admitted_types()));
                let message = match ty {
                    Some(ty) if !taken.is_any() && !taken.allows(ty) => {
                        format!("must be {}", taken.phrase())
                    }
                    Some(ty) => {
                        let why = self.why_each_fails(alternatives, ty, view, at);
                        match why.is_empty() {
                            true => message(),
                            false => format!("{}: {why}", message()),
                        }
                    }
                    None => message(),
                };
                self.error(at, keyword, Some(short(view)), message);
            }
        }
    }

    /// Why each alternative that takes values of the value's type refuses it, for a value
    /// several could take and none does (two shapes of object, no tag to choose): `as `From
    /// text` (strength: is not a known field); as alternative 2 (image_url: is required)`.
    /// Empty for fewer than two such alternatives.
    fn why_each_fails(
        &mut self,
        alternatives: &'static [&'static Schema],
        ty: JsonType,
        view: View<'_>,
        at: At<'_>,
    ) -> String {
        /// Problems told per alternative: the first few say which is nearer.
        const SHOWN: usize = 3;
        /// Alternatives told: a `oneOf` of dozens of shapes would bury the message.
        const TOLD: usize = 4;
        let typed: Vec<(usize, &'static Schema)> = alternatives
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, s)| s.admitted_types().allows(ty))
            .collect();
        if typed.len() < 2 {
            return String::new();
        }
        let more = typed.len().saturating_sub(TOLD);
        let mut each: Vec<String> = typed
            .into_iter()
            .take(TOLD)
            .map(|(index, alternative)| {
                let report = self.aside(alternative, view, at);
                let errors: Vec<&Problem> = report.errors().collect();
                let mut said: Vec<String> = errors
                    .iter()
                    .take(SHOWN)
                    .map(|p| {
                        let path = if p.path.is_empty() { "input" } else { &p.path };
                        format!("{path}: {}", p.message)
                    })
                    .collect();
                if errors.len() > SHOWN {
                    said.push(format!("{} more", errors.len() - SHOWN));
                }
                let name = match alternative.title {
                    Some(title) => format!("`{title}`"),
                    None => format!("alternative {}", index + 1),
                };
                format!("as {name} ({})", said.join(", "))
            })
            .collect();
        if more > 0 {
            each.push(format!("and {more} more alternatives"));
        }
        each.join("; ")
    }

    /// Whether the value passes `schema`, without reporting.
    fn matches(&mut self, schema: &'static Schema, view: View<'_>, at: At<'_>) -> bool {
        self.aside(schema, view, at).is_valid()
    }

    /// Whether the value passes `schema`, an alternative it may be sent as: a pass's warnings
    /// are the value's (an integer past 64 bits in a union's object is sent rounded too).
    fn passes(&mut self, schema: &'static Schema, view: View<'_>, at: At<'_>) -> bool {
        let found = self.aside(schema, view, at);
        let valid = found.is_valid();
        if valid {
            for warning in found.warnings() {
                self.report.push(warning.clone());
            }
        }
        valid
    }

    /// The problems of the value against `schema`, in a report of their own.
    fn aside(&mut self, schema: &'static Schema, view: View<'_>, at: At<'_>) -> ValidationReport {
        self.apart(|checker| checker.node(schema, view, at))
    }

    /// What `check` finds, in a report of its own.
    fn apart(&mut self, check: impl FnOnce(&mut Checker<'_>)) -> ValidationReport {
        let mut scratch = ValidationReport::new();
        check(&mut Checker {
            report: &mut scratch,
            files: self.files,
            strings: self.strings,
            inline: &mut *self.inline,
        });
        scratch
    }

    fn number(&mut self, schema: &Schema, n: Number, at: At<'_>) {
        use std::cmp::Ordering::{Equal, Greater, Less};
        // Valid (JSON Schema's integers have no bound), but not what was written if it was an
        // integer beyond 64 bits, and a field of integers may read a float otherwise.
        if !schema.types.names(JsonType::Number) && n.is_rounded_integer() {
            self.report.warning(
                &at.path(),
                "type",
                Some(n.to_string()),
                "is an integer too large to be sent exactly: it goes as this float (an integer \
                 written beyond 64 bits is rounded to it)",
            );
        }
        // Each bound, with the orderings of `n` against it that pass.
        let bounds: [(Option<Number>, &str, &str, &[std::cmp::Ordering]); 4] = [
            (schema.minimum, "minimum", "at least", &[Greater, Equal]),
            (schema.maximum, "maximum", "at most", &[Less, Equal]),
            (
                schema.exclusive_minimum,
                "exclusiveMinimum",
                "greater than",
                &[Greater],
            ),
            (
                schema.exclusive_maximum,
                "exclusiveMaximum",
                "less than",
                &[Less],
            ),
        ];
        for (bound, rule, words, passing) in bounds {
            if let Some(bound) = bound
                && !n.partial_cmp(&bound).is_some_and(|o| passing.contains(&o))
            {
                self.error(
                    at,
                    rule,
                    Some(n.to_string()),
                    format!("must be {words} {bound}"),
                );
            }
        }
        if let Some(divisor) = schema.multiple_of
            && !is_multiple(n, divisor)
        {
            let message = format!("must be a multiple of {divisor}");
            self.error(at, "multipleOf", Some(n.to_string()), message);
        }
    }

    fn string(&mut self, schema: &'static Schema, text: &str, at: At<'_>) {
        if schema.media.is_some() {
            let file = Media::parse(text);
            let local = self.files == Files::Local && matches!(file, Media::Path(_));
            if self.strings == Strings::AreText && local {
                // Text sent as it is, where a branch or a rule makes it a file: the server
                // would get the path. (A server reading one refuses it as it does any path.)
                let message = "is sent as text here, so it cannot name a local file: give an \
                               https URL or a data: URI"
                    .to_owned();
                return self.error(at, "format", Some(short(View::String(text))), message);
            }
            // A JSON input names a file as text: check it as the typed input's `Media` is.
            return self.media(schema, &file, at);
        }
        self.text(schema, text, at);
    }

    /// The string keywords of `schema` (`minLength`, `maxLength`, `pattern`, `format`) on the
    /// text sent.
    fn text(&mut self, schema: &'static Schema, text: &str, at: At<'_>) {
        let len = text.chars().count() as u64;
        if let Some(min) = schema.min_length.filter(|&min| len < min) {
            let message = format!("must be at least {min} character{} long", plural(min));
            self.error(
                at,
                "minLength",
                Some(format!("{len} character{}", plural(len))),
                message,
            );
        }
        if let Some(max) = schema.max_length.filter(|&max| len > max) {
            let message = format!("must be at most {max} character{} long", plural(max));
            self.error(
                at,
                "maxLength",
                Some(format!("{len} character{}", plural(len))),
                message,
            );
        }
        if let Some(pattern) = schema.pattern {
            match pattern.is_match(text) {
                Some(true) => {}
                Some(false) => self.error(
                    at,
                    "pattern",
                    Some(short(View::String(text))),
                    format!("must match the pattern {}", pattern.source),
                ),
                None => self.error(
                    at,
                    "pattern",
                    None,
                    format!("the pattern {} cannot be compiled", pattern.source),
                ),
            }
        }
        if let Some(format) = schema.format
            && !format.check(text)
        {
            let message = format!("must be {}", format.describe());
            self.error(at, "format", Some(short(View::String(text))), message);
        }
    }

    fn media(&mut self, schema: &'static Schema, file: &Media, at: At<'_>) {
        match schema.media {
            Some(spec) => {
                media::check(self.report, &at.path(), file, spec, self.files, self.inline);
                self.media_text(schema, file, at);
            }
            // A media value where the schema takes plain text: its wire text is checked.
            None => match file {
                Media::Url(text) | Media::DataUri(text) => self.string(schema, text, at),
                Media::Path(_) | Media::Bytes(_) => {}
            },
        }
    }

    /// A media field's string keywords (`minLength`, `maxLength`, `pattern`) on the text it is
    /// sent as: a URL or a `data:` URI as given, a local file or bytes as the `data:` URI they
    /// go as (read whole only here: a media field seldom has any). A file that cannot be read
    /// is reported by the media check.
    fn media_text(&mut self, schema: &'static Schema, file: &Media, at: At<'_>) {
        if schema.min_length.is_none() && schema.max_length.is_none() && schema.pattern.is_none() {
            return;
        }
        let sent = match file {
            Media::Url(text) | Media::DataUri(text) => std::borrow::Cow::Borrowed(text.as_str()),
            Media::Bytes(bytes) => std::borrow::Cow::Owned(media::data_uri(bytes)),
            Media::Path(path) if self.files == Files::Local => match std::fs::read(path) {
                Ok(bytes) => std::borrow::Cow::Owned(media::data_uri(&bytes)),
                Err(_) => return,
            },
            Media::Path(_) => return,
        };
        let found = self.apart(|checker| checker.text(schema, &sent, at));
        let inline = matches!(file, Media::Path(_) | Media::Bytes(_));
        for mut problem in found.problems().iter().cloned() {
            if inline {
                // The text is no one's: say what it is, not its first characters.
                problem.message = format!(
                    "{}, and a file given here goes as a data: URI: give an https URL",
                    problem.message
                );
                problem.value = Some(format!(
                    "a data: URI of {} characters",
                    sent.chars().count()
                ));
            }
            self.report.push(problem);
        }
    }

    fn array(&mut self, schema: &'static Schema, view: View<'_>, at: At<'_>) {
        let View::Array(items) = view else {
            return;
        };
        let len = items.len() as u64;
        if let Some(min) = schema.min_items.filter(|&min| len < min) {
            let message = format!("must have at least {min} item{}", plural(min));
            self.error(
                at,
                "minItems",
                Some(format!("{len} item{}", plural(len))),
                message,
            );
        }
        if let Some(max) = schema.max_items.filter(|&max| len > max) {
            let message = format!("must have at most {max} item{}", plural(max));
            self.error(
                at,
                "maxItems",
                Some(format!("{len} item{}", plural(len))),
                message,
            );
        }
        if schema.unique_items
            && let Some((i, j)) = first_duplicate(view)
        {
            let message = format!("items must be unique; item {j} repeats item {i}");
            self.error(at.index(j), "uniqueItems", None, message);
        }
        for index in 0..items.len() {
            if let (Some(item_schema), Some(item)) = (schema.item_at(index), items.item(index)) {
                self.node(item_schema, item.view(), at.index(index));
            }
        }
        if let Some(contains) = schema.contains {
            self.contains(schema, contains, items, at);
        }
        if let Some(rest) = schema.unevaluated_items {
            let mut done = vec![false; items.len()];
            {
                let mut passes = |s: &'static Schema, v: View<'_>| self.matches(s, v, at);
                evaluated::items(schema, view, false, &mut done, &mut passes, 0);
            }
            for index in (0..items.len()).filter(|&i| !done[i]) {
                if let Some(item) = items.item(index) {
                    self.unevaluated(rest, item.view(), at.index(index), "unevaluatedItems");
                }
            }
        }
    }

    /// `contains`, with `minContains` and `maxContains`: how many items pass it.
    fn contains(
        &mut self,
        schema: &Schema,
        contains: &'static Schema,
        items: &dyn Array,
        at: At<'_>,
    ) {
        let passing = (0..items.len())
            .filter_map(|index| Some((index, items.item(index)?)))
            .filter(|(index, item)| self.matches(contains, item.view(), at.index(*index)))
            .count() as u64;
        let min = schema.min_contains.unwrap_or(1);
        let found = Some(format!("{passing} such item{}", plural(passing)));
        let bound = |words: &str, n: u64| {
            let passes = if n == 1 { "passes" } else { "pass" };
            format!(
                "must have {words} {n} item{} that {passes} the schema under `contains`",
                plural(n)
            )
        };
        if passing < min {
            let rule = if schema.min_contains.is_some() {
                "minContains"
            } else {
                "contains"
            };
            self.error(at, rule, found, bound("at least", min));
        } else if let Some(max) = schema.max_contains.filter(|&max| passing > max) {
            self.error(at, "maxContains", found, bound("at most", max));
        }
    }

    fn object(&mut self, schema: &'static Schema, view: View<'_>, at: At<'_>) {
        let View::Object(object) = view else {
            return;
        };
        let entries = object.entries();
        let count = entries.len() as u64;
        if let Some(min) = schema.min_properties.filter(|&min| count < min) {
            let message = format!("must have at least {min} propert{}", plural_y(min));
            self.error(
                at,
                "minProperties",
                Some(format!("{count} propert{}", plural_y(count))),
                message,
            );
        }
        if let Some(max) = schema.max_properties.filter(|&max| count > max) {
            let message = format!("must have at most {max} propert{}", plural_y(max));
            self.error(
                at,
                "maxProperties",
                Some(format!("{count} propert{}", plural_y(count))),
                message,
            );
        }
        for name in schema.required {
            match find(&entries, name) {
                None => self.error(at.key(name), "required", None, "is required".to_owned()),
                Some(value) => {
                    self.blank_but_required(schema.property(name), value.view(), at.key(name))
                }
            }
        }
        for dependency in schema.dependencies {
            if find(&entries, dependency.name).is_some() {
                self.dependency(dependency, &entries, view, at);
            }
        }
        for &(key, value) in &entries {
            if let Some(names) = schema.property_names {
                self.property_name(names, key, at);
            }
            let property = schema.property(key);
            let mut matched = property.is_some();
            if let Some(property) = property {
                self.node(property, value.view(), at.key(key));
            }
            for pattern_property in schema.pattern_properties {
                match pattern_property.pattern.is_match(key) {
                    Some(true) => {
                        matched = true;
                        self.node(pattern_property.schema, value.view(), at.key(key));
                    }
                    Some(false) => {}
                    None => {
                        let message = format!(
                            "the pattern {} cannot be compiled",
                            pattern_property.pattern.source
                        );
                        self.error(at.key(key), "patternProperties", None, message);
                    }
                }
            }
            match schema.additional_properties {
                _ if matched => {}
                Some(extra) if extra.is_never() => {
                    let message = unknown_field(schema);
                    self.error(at.key(key), "additionalProperties", None, message);
                }
                Some(extra) => self.node(extra, value.view(), at.key(key)),
                None => {}
            }
        }
        if let Some(rest) = schema.unevaluated_properties {
            let mut done = vec![false; entries.len()];
            {
                let mut passes = |s: &'static Schema, v: View<'_>| self.matches(s, v, at);
                evaluated::properties(schema, view, &entries, false, &mut done, &mut passes, 0);
            }
            for (&(key, value), _) in entries.iter().zip(&done).filter(|(_, done)| !**done) {
                self.unevaluated(rest, value.view(), at.key(key), "unevaluatedProperties");
            }
        }
    }

    /// A property or an item no keyword evaluated: `rest` (`unevaluatedProperties`,
    /// `unevaluatedItems`) takes it, or refuses it when it is `false`.
    fn unevaluated(&mut self, rest: &'static Schema, view: View<'_>, at: At<'_>, rule: &str) {
        if rest.is_never() {
            let what = if rule == "unevaluatedItems" {
                "item"
            } else {
                "property"
            };
            let message = format!("is not allowed: no schema here takes this {what}");
            self.error(at, rule, None, message);
        } else {
            self.node(rest, view, at);
        }
    }

    /// What an object holding `dependency.name` must also hold.
    fn dependency(
        &mut self,
        dependency: &Dependency,
        entries: &[(&str, &dyn Instance)],
        view: View<'_>,
        at: At<'_>,
    ) {
        match dependency.needs {
            Needs::Properties(names) => {
                for name in names.iter().filter(|name| find(entries, name).is_none()) {
                    let message = format!("is required when `{}` is given", dependency.name);
                    self.error(at.key(name), "dependencies", None, message);
                }
            }
            Needs::Schema(schema) => self.node(schema, view, at),
        }
    }

    /// `propertyNames`: a name that fails it is reported once, at the property, with why.
    fn property_name(&mut self, names: &'static Schema, key: &str, at: At<'_>) {
        let scratch = self.aside(names, View::String(key), at.key(key));
        let why: Vec<&str> = scratch.errors().map(|p| p.message.as_str()).collect();
        if !why.is_empty() {
            let message = format!("is not an allowed property name: it {}", why.join("; it "));
            self.error(at.key(key), "propertyNames", None, message);
        }
    }

    /// A required text given empty or blank passes JSON Schema, yet says nothing: most often a
    /// prompt from a variable that was not set, and the job is paid for all the same. A
    /// warning, as the schema allows it (a `minLength` would say otherwise).
    fn blank_but_required(&mut self, property: Option<&Schema>, view: View<'_>, at: At<'_>) {
        if let (Some(property), View::String(text)) = (property, view)
            && property.media.is_none()
            && property.admitted_types().allows(JsonType::String)
            && property.min_length.is_none()
            // A choice or a constant says for itself what is wrong with "".
            && property.choices.is_none()
            && property.constant.is_none()
            && text.trim().is_empty()
        {
            self.report.warning(
                &at.path(),
                "required",
                Some(short(view)),
                "is required but empty: the model is given no text, and the job is paid for",
            );
        }
    }

    fn error(&mut self, at: At<'_>, rule: &str, value: Option<String>, message: String) {
        self.report.error(&at.path(), rule, value, message);
    }
}

fn unknown_field(schema: &Schema) -> String {
    let patterns: Vec<&str> = schema
        .pattern_properties
        .iter()
        .map(|p| p.pattern.source)
        .collect();
    let names: Vec<&str> = schema.properties.iter().map(|p| p.name).collect();
    match (names.is_empty(), patterns.is_empty()) {
        (true, true) => "is not allowed: this object takes no properties".to_owned(),
        (true, false) => format!(
            "is not allowed: this object takes the names matching {}",
            patterns.join(", ")
        ),
        (false, true) => format!("is not a known field; the fields are: {}", names.join(", ")),
        (false, false) => format!(
            "is not a known field; the fields are: {}, and the names matching {}",
            names.join(", "),
            patterns.join(", ")
        ),
    }
}

/// Whether `n` is a whole multiple of `divisor`, computed exactly on the decimals as written
/// (`0.0075` is a multiple of `0.0001`, though not in floating point).
fn is_multiple(n: Number, divisor: Number) -> bool {
    let (Some((a, p)), Some((b, q))) = (n.decimal(), divisor.decimal()) else {
        return false;
    };
    if b == 0 {
        return false;
    }
    if a == 0 {
        return true;
    }
    let b = b.unsigned_abs();
    let a = a.unsigned_abs();
    if p >= q {
        // a × 10^(p-q) ≡ 0 (mod b)
        let mut rest = a % b;
        for _ in 0..(p - q) {
            if rest == 0 {
                break;
            }
            rest = mul_mod(rest, 10, b);
        }
        rest == 0
    } else {
        // a / (b × 10^(q-p)) must be whole.
        if a % b != 0 {
            return false;
        }
        let mut quotient = a / b;
        for _ in 0..(q - p) {
            if quotient % 10 != 0 {
                return false;
            }
            quotient /= 10;
        }
        true
    }
}

fn mul_mod(x: u128, y: u128, m: u128) -> u128 {
    // x < m and y is 10, so x * y cannot overflow unless m is huge; fall back to the slow way.
    match x.checked_mul(y) {
        Some(product) => product % m,
        None => (0..y).fold(0u128, |acc, _| (acc + x) % m),
    }
}

/// The first pair of equal items, if any.
fn first_duplicate(view: View<'_>) -> Option<(usize, usize)> {
    let View::Array(items) = view else {
        return None;
    };
    // Items by hash: only those sharing one can be equal.
    let mut seen: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
    for j in 0..items.len() {
        let Some(b) = items.item(j) else {
            continue;
        };
        let same_hash = seen.entry(equal::hash(b.view())).or_default();
        let earlier = same_hash.iter().copied().find(|&i| {
            items
                .item(i)
                .is_some_and(|a| equal::views(a.view(), b.view()))
        });
        if let Some(i) = earlier {
            return Some((i, j));
        }
        same_hash.push(j);
    }
    None
}

/// A value shortened for a message: JSON, at most 60 characters, control characters escaped.
fn short(view: View<'_>) -> String {
    let text = match view {
        View::Null => "null".to_owned(),
        View::Bool(b) => b.to_string(),
        View::Number(n) => n.to_string(),
        View::String(s) => serde_json::Value::from(s).to_string(),
        View::Media(Media::Url(url)) => serde_json::Value::from(url.as_str()).to_string(),
        View::Media(Media::Path(path)) => {
            serde_json::Value::from(path.display().to_string()).to_string()
        }
        View::Media(Media::DataUri(uri)) => format!("a data: URI of {} bytes", uri.len()),
        View::Media(Media::Bytes(bytes)) => format!("a file of {} bytes", bytes.len()),
        View::Array(items) => {
            let n = items.len() as u64;
            format!("an array of {n} item{}", plural(n))
        }
        View::Object(object) => {
            let n = object.len() as u64;
            format!("an object of {n} propert{}", plural_y(n))
        }
    };
    if text.chars().count() > 60 {
        let head: String = text.chars().take(57).collect();
        format!("{head}...")
    } else {
        text
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn plural_y(n: u64) -> &'static str {
    if n == 1 { "y" } else { "ies" }
}

/// The one schema of `schemas`, if there is exactly one.
fn lone(mut schemas: impl Iterator<Item = &'static Schema>) -> Option<&'static Schema> {
    match (schemas.next(), schemas.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// The tags of a shape of object: its properties of one fixed value (`const`, an `enum` of
/// one), as tagged unions write `"mode": {"const": "text"}` in each shape.
fn tags(schema: &'static Schema) -> Vec<(&'static str, &'static Json)> {
    let mut out = Vec::new();
    for member in schema.in_place() {
        for property in member.properties {
            match (property.schema.constant, property.schema.choices) {
                (Some(value), _) => out.push((property.name, value)),
                (None, Some([one])) => out.push((property.name, &one.value)),
                _ => {}
            }
        }
    }
    out
}

/// Whether an object carries one of the [`tags`] of `schema`, and agrees with every one it
/// carries.
fn tags_agree(schema: &'static Schema, view: View<'_>) -> bool {
    let View::Object(object) = view else {
        return false;
    };
    let mut tagged = false;
    for (name, fixed) in tags(schema) {
        if let Some(value) = object.get(name) {
            if !equal::json(value.view(), fixed) {
                return false;
            }
            tagged = true;
        }
    }
    tagged
}

/// A tag every one of `alternatives` has that the object gives with none of their values
/// (`"mode": "x"` where the shapes are "text" and "image"): its name and their values.
fn unknown_tag(
    alternatives: &'static [&'static Schema],
    view: View<'_>,
) -> Option<(&'static str, Vec<&'static Json>)> {
    let View::Object(object) = view else {
        return None;
    };
    let each: Vec<_> = alternatives.iter().map(|s| tags(s)).collect();
    let (first, rest) = each.split_first()?;
    first.iter().find_map(|(name, _)| {
        let values: Vec<&'static Json> = each
            .iter()
            .map(|tags| tags.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
            .collect::<Option<_>>()?;
        let given = object.get(name)?;
        let unknown = !values.iter().any(|v| equal::json(given.view(), v));
        (unknown && !rest.is_empty()).then_some((*name, values))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Items;

    fn num(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_problem_deep_in_a_value_is_reported_at_its_whole_path() {
        use crate::schema::Types;
        static WHOLE: Schema = Schema {
            types: Types::INTEGER,
            ..Schema::ANY
        };
        static LIST: Schema = Schema {
            items: Items::Each(&WHOLE),
            ..Schema::ANY
        };
        static MAP: Schema = Schema {
            additional_properties: Some(&LIST),
            ..Schema::ANY
        };
        let value = serde_json::json!({"plain": [1], "odd key/~": [1, 2, "x"]});
        let start = Path::root().key("style");
        let mut report = ValidationReport::new();
        check(
            &mut report,
            &MAP,
            &value,
            &start,
            Files::Wire,
            Strings::NameFiles,
        );
        let problems = report.problems();
        assert_eq!(problems.len(), 1, "{report}");
        let expected = start.key("odd key/~").index(2);
        assert_eq!(problems[0].path, expected.as_str());
        assert_eq!(problems[0].path, r#"style["odd key/~"][2]"#);
        assert_eq!(problems[0].pointer, "/style/odd key~1~0/2");
    }

    #[test]
    fn an_integer_beyond_64_bits_is_valid_but_said_to_be_rounded() {
        use crate::schema::Types;
        static SEED: Schema = Schema {
            types: Types::INTEGER,
            ..Schema::ANY
        };
        static AMOUNT: Schema = Schema {
            types: Types::NUMBER,
            ..Schema::ANY
        };
        let check_one = |schema: &'static Schema, text: &str| {
            let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            let mut report = ValidationReport::new();
            check(
                &mut report,
                schema,
                &value,
                &Path::root(),
                Files::Wire,
                Strings::NameFiles,
            );
            report
        };
        for text in [
            "99999999999999999999999",
            "-9223372036854775809",
            "18446744073709551616",
        ] {
            let rounded = check_one(&SEED, text);
            assert!(rounded.is_valid(), "{rounded}");
            assert_eq!(rounded.warnings().count(), 1, "{text}: {rounded}");
        }
        for (schema, text) in [
            (&SEED, "18446744073709551615"),
            (&SEED, "-9007199254740992"),
            // Written as floats within 64 bits: sent as written, nothing was rounded away.
            (&SEED, "1e18"),
            (&SEED, "9007199254740994.0"),
            (&AMOUNT, "1e23"),
        ] {
            let report = check_one(schema, text);
            assert!(report.problems().is_empty(), "{text}: {report}");
        }
    }

    #[test]
    fn of_many_shapes_the_first_few_say_why() {
        use crate::schema::Types;
        macro_rules! shape {
            ($name:ident, $key:literal) => {
                static $name: Schema = Schema {
                    types: Types::OBJECT,
                    required: &[$key],
                    ..Schema::ANY
                };
            };
        }
        shape!(A, "a");
        shape!(B, "b");
        shape!(C, "c");
        shape!(D, "d");
        shape!(E, "e");
        shape!(F, "f");
        static ONE_OF: Schema = Schema {
            one_of: &[&A, &B, &C, &D, &E, &F],
            ..Schema::ANY
        };
        let mut report = ValidationReport::new();
        let value = serde_json::json!({"z": 1});
        check(
            &mut report,
            &ONE_OF,
            &value,
            &Path::root(),
            Files::Wire,
            Strings::NameFiles,
        );
        let said: Vec<&str> = report.errors().map(|p| p.message.as_str()).collect();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("as alternative 4 (d: "), "{said:?}");
        assert!(!said[0].contains("as alternative 5"), "{said:?}");
        assert!(said[0].ends_with("and 2 more alternatives"), "{said:?}");
    }

    /// A value sent as a union's alternative has that alternative's warnings: an integer past
    /// 64 bits in it goes rounded, and says so as it does in a field (QA repro30 M6).
    #[test]
    fn the_warnings_of_the_alternative_that_passes_are_the_values() {
        use crate::schema::{Property, Types};
        static WHOLE: Schema = Schema {
            types: Types::INTEGER,
            ..Schema::ANY
        };
        static TEXT: Schema = Schema {
            types: Types::STRING,
            ..Schema::ANY
        };
        static CROP: Schema = Schema {
            types: Types::OBJECT,
            properties: &[Property {
                name: "x",
                schema: &WHOLE,
            }],
            ..Schema::ANY
        };
        static ANY_OF: Schema = Schema {
            any_of: &[&TEXT, &CROP],
            ..Schema::ANY
        };
        static ONE_OF: Schema = Schema {
            one_of: &[&TEXT, &CROP],
            ..Schema::ANY
        };
        for schema in [&ANY_OF, &ONE_OF] {
            let value = serde_json::json!({"x": 1e30});
            let mut report = ValidationReport::new();
            check(
                &mut report,
                schema,
                &value,
                &Path::root(),
                Files::Wire,
                Strings::NameFiles,
            );
            assert!(report.is_valid(), "{report}");
            let warned: Vec<&str> = report.warnings().map(|p| p.path.as_str()).collect();
            assert_eq!(warned, ["x"], "{report}");
        }
    }

    #[test]
    fn the_one_alternative_of_the_values_type_says_why_it_is_refused() {
        use crate::schema::{Choice, Json, Property, Types};
        static WORDS: Schema = Schema {
            types: Types::STRING,
            choices: Some(&[Choice::new(Json::String("square"))]),
            ..Schema::ANY
        };
        static HEIGHT: Schema = Schema {
            types: Types::INTEGER,
            maximum: Some(Number::from_i64(100)),
            ..Schema::ANY
        };
        static SIZE: Schema = Schema {
            types: Types::OBJECT,
            properties: &[Property {
                name: "height",
                schema: &HEIGHT,
            }],
            ..Schema::ANY
        };
        static EITHER: Schema = Schema {
            any_of: &[&WORDS, &SIZE],
            ..Schema::ANY
        };
        let errors = |text: &str| {
            let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            let mut report = ValidationReport::new();
            check(
                &mut report,
                &EITHER,
                &value,
                &Path::root(),
                Files::Wire,
                Strings::NameFiles,
            );
            let found: Vec<(String, String)> = report
                .errors()
                .map(|p| (p.path.clone(), p.rule.clone()))
                .collect();
            found
        };
        let one = |path: &str, rule: &str| vec![(path.to_owned(), rule.to_owned())];
        assert_eq!(errors(r#"{"height": 500}"#), one("height", "maximum"));
        assert_eq!(errors(r#""squar""#), one("", "enum"));
        // No alternative takes a number: one error for the whole, saying what they take.
        assert_eq!(errors("5"), one("", "anyOf"));
        let mut report = ValidationReport::new();
        check(
            &mut report,
            &EITHER,
            &serde_json::json!(true),
            &Path::root(),
            Files::Wire,
            Strings::NameFiles,
        );
        let messages: Vec<&str> = report.errors().map(|p| p.message.as_str()).collect();
        assert_eq!(messages, ["must be an object or a string"]);
    }

    #[test]
    fn repeats_are_found_by_value_among_many_items() {
        let at = |list: serde_json::Value| {
            let items = list.as_array().cloned().unwrap_or_default();
            first_duplicate(View::Array(&items))
        };
        assert_eq!(at(serde_json::json!([1, 2, 1.0])), Some((0, 2)));
        assert_eq!(at(serde_json::json!([0, -0.0])), Some((0, 1)));
        assert_eq!(
            at(serde_json::json!([{"a": 1, "b": [2]}, {"b": [2.0], "a": 1}])),
            Some((0, 1))
        );
        assert_eq!(at(serde_json::json!([[1], [true], "1", 1])), None);
        // Tens of thousands of items, the repeat last: found without comparing every pair.
        let mut many: Vec<serde_json::Value> =
            (0..50_000).map(|i| format!("node-{i}").into()).collect();
        many.push("node-123".into());
        assert_eq!(first_duplicate(View::Array(&many)), Some((123, 50_000)));
    }

    #[test]
    fn blank_text_is_warned_of_only_where_text_is_taken() {
        use crate::schema::{Property, Types};
        static IMAGES: Schema = Schema {
            types: Types::ARRAY,
            ..Schema::ANY
        };
        static PROMPT: Schema = Schema {
            types: Types::STRING,
            ..Schema::ANY
        };
        static INPUT: Schema = Schema {
            types: Types::OBJECT,
            properties: &[
                Property {
                    name: "images",
                    schema: &IMAGES,
                },
                Property {
                    name: "prompt",
                    schema: &PROMPT,
                },
            ],
            required: &["images", "prompt"],
            ..Schema::ANY
        };
        let value = serde_json::json!({"images": "", "prompt": " "});
        let mut report = ValidationReport::new();
        check(
            &mut report,
            &INPUT,
            &value,
            &Path::root(),
            Files::Wire,
            Strings::NameFiles,
        );
        let found: Vec<(&str, &str)> = report
            .problems()
            .iter()
            .map(|p| (p.path.as_str(), p.rule.as_str()))
            .collect();
        // The list given "" is only of the wrong type; the blank prompt is warned of.
        assert_eq!(found, [("prompt", "required"), ("images", "type")]);
    }

    /// Text a typed input sends as it is cannot name a local file where a schema makes it a
    /// file: the server would get the path. A JSON input's text names the file.
    #[test]
    fn text_sent_as_is_names_no_local_file() {
        use crate::schema::{MediaKind, MediaSpec};
        static IMAGE: MediaSpec = MediaSpec {
            kind: MediaKind::Image,
            formats: &[],
            rules: &[],
        };
        static PICTURE: Schema = Schema {
            media: Some(&IMAGE),
            ..Schema::ANY
        };
        let rules = |value: serde_json::Value, strings| {
            let mut report = ValidationReport::new();
            check(
                &mut report,
                &PICTURE,
                &value,
                &Path::root(),
                Files::Local,
                strings,
            );
            let found: Vec<(String, String)> = report
                .problems()
                .iter()
                .map(|p| (p.rule.clone(), p.message.clone()))
                .collect();
            found
        };
        let path = serde_json::json!("no/such/cat.png");
        let as_text = rules(path.clone(), Strings::AreText);
        assert_eq!(as_text.len(), 1);
        assert!(
            as_text[0].1.starts_with("is sent as text here"),
            "{as_text:?}"
        );
        // Read as a file, it is one that is not there.
        let as_file = rules(path, Strings::NameFiles);
        assert!(!as_file.is_empty() && !as_file[0].1.starts_with("is sent as text"));
        // A URL is a URL either way.
        let url = serde_json::json!("https://example.com/cat.png");
        assert!(rules(url.clone(), Strings::AreText).is_empty());
        assert!(rules(url, Strings::NameFiles).is_empty());
    }

    #[test]
    fn multiples_are_exact() {
        assert!(is_multiple(num("0.0075"), num("0.0001")));
        assert!(!is_multiple(num("0.00751"), num("0.0001")));
        assert!(is_multiple(num("4.5"), num("1.5")));
        assert!(!is_multiple(num("35"), num("1.5")));
        assert!(!is_multiple(num("1e308"), num("0.123456789")));
        assert!(is_multiple(num("12391239123"), num("1e-8")));
        assert!(is_multiple(num("0"), num("3")));
        assert!(is_multiple(num("-6"), num("3")));
        assert!(!is_multiple(num("7"), num("2")));
    }
}
