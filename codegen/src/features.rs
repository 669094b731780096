//! The cargo features of a catalog, so a dependent compiles only the models it uses.
//!
//! Each model has a feature named after its id (`bytedance/seedream-4-0/edit` is
//! `bytedance-seedream-4-0-edit`); each family, a folder of two or more models at any depth
//! below the vendor (and the vendor itself for ids of two segments), has one enabling every
//! model under it (`bytedance-seedream-4-0`; `blackforestlabs-flux-3` holds
//! `.../text-to-video/draft` too), unless a model already has that name; `all-models` enables
//! every model. `runcomfy`'s `Cargo.toml` declares them (`cargo xtask features` writes the table) and
//! its build script generates only the enabled models.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Errors};

/// The feature enabling every model of the catalog.
pub const ALL_MODELS: &str = "all-models";

/// Names no model or family may take: [`ALL_MODELS`], and cargo's own `default`.
const RESERVED: &[&str] = &[ALL_MODELS, "default"];

/// The feature of one model: the id lowercased, every character but letters and digits a `-`.
pub fn model_feature(id: &str) -> String {
    let mut name = String::with_capacity(id.len());
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    name.trim_matches('-').to_owned()
}

/// The family of a model: its id without the last segment (`bytedance/seedream-4-0`).
pub fn family(id: &str) -> &str {
    id.rsplit_once('/').map_or(id, |(family, _)| family)
}

/// The environment variable cargo sets for a build script when `feature` is enabled.
pub fn env_var(feature: &str) -> String {
    format!(
        "CARGO_FEATURE_{}",
        feature.to_ascii_uppercase().replace('-', "_")
    )
}

/// Every feature of a catalog and what it enables, sorted by name; `ALL_MODELS` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureTable {
    /// Feature name to the features it enables (empty for a model's own feature).
    pub features: BTreeMap<String, Vec<String>>,
    /// The family feature of each model that has one, by model id.
    pub family_of: BTreeMap<String, String>,
    /// Every model id of the catalog, generated or not, sorted.
    pub ids: Vec<String>,
}

impl FeatureTable {
    /// The features of the models `ids`, each with its folder (named in errors).
    ///
    /// Fails when two ids map to the same feature name.
    pub fn new<'a>(models: impl IntoIterator<Item = (&'a str, &'a Path)>) -> Result<Self, Errors> {
        let mut ids: Vec<&str> = Vec::new();
        // Each model's feature, with the model that took the name first.
        let mut features: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut owners: BTreeMap<String, &str> = BTreeMap::new();
        let mut errors = Vec::new();
        for (id, dir) in models {
            ids.push(id);
            let name = model_feature(id);
            let taken_by = match owners.get(&name) {
                _ if name == ALL_MODELS => Some("the feature of every model".to_owned()),
                _ if RESERVED.contains(&name.as_str()) => Some("cargo's own feature".to_owned()),
                Some(other) => Some(format!("model `{other}`")),
                None => None,
            };
            match taken_by {
                Some(other) => errors.push(collision(dir, id, &name, &other)),
                None => {
                    owners.insert(name.clone(), id);
                    features.insert(name, Vec::new());
                }
            }
        }
        let families = family_features(&ids, &features);
        // Each model is enabled by the widest family holding it (or its own feature); each
        // family enables the next widest below it, so a family covers every model under it.
        let widest_below = |id: &str, above: Option<&str>| -> String {
            prefixes(id)
                .filter(|p| above.is_none_or(|above| p.len() > above.len()))
                .find(|p| families.contains(p))
                .map_or_else(|| model_feature(id), model_feature)
        };
        let mut family_of = BTreeMap::new();
        for family in &families {
            let mut enables: Vec<String> = ids
                .iter()
                .filter(|id| prefixes(id).any(|p| p == *family))
                .map(|id| widest_below(id, Some(family)))
                .collect();
            enables.sort();
            enables.dedup();
            features.insert(model_feature(family), enables);
        }
        for id in &ids {
            // The narrowest family, as the model's docs name it.
            if let Some(family) = prefixes(id).filter(|p| families.contains(p)).last() {
                family_of.insert((*id).to_owned(), model_feature(family));
            }
        }
        let mut all: Vec<String> = ids.iter().map(|id| widest_below(id, None)).collect();
        if !errors.is_empty() {
            return Err(Errors(errors));
        }
        all.sort();
        all.dedup();
        features.insert(ALL_MODELS.to_owned(), all);
        let mut ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
        ids.sort();
        Ok(Self {
            features,
            family_of,
            ids,
        })
    }

    /// The table as `Cargo.toml` lines (`name = ["enabled", ...]`), `all-models` first: what
    /// `cargo xtask features` writes between its markers.
    pub fn to_toml(&self) -> String {
        let line = |name: &str, enables: &[String]| {
            let list: Vec<String> = enables.iter().map(|f| format!("\"{f}\"")).collect();
            format!("{name} = [{}]\n", list.join(", "))
        };
        let mut out = String::new();
        if let Some(all) = self.features.get(ALL_MODELS) {
            out.push_str(&line(ALL_MODELS, all));
        }
        for (name, enables) in &self.features {
            if name != ALL_MODELS {
                out.push_str(&line(name, enables));
            }
        }
        out
    }
}

/// The folders above a model id, widest first (`a/b/c/d`: `a/b`, `a/b/c`), and its vendor
/// only when that is its family (`a/b`: `a`).
fn prefixes(id: &str) -> impl Iterator<Item = &str> {
    let parent = family(id);
    id.match_indices('/')
        .map(move |(at, _)| &id[..at])
        .filter(move |p| p.contains('/') || *p == parent)
}

/// The folders that get a family feature: those holding two or more models, but for a name
/// that is a model's already (`acme/flux` beside `acme/flux/dev`: one name cannot mean both)
/// or reserved.
fn family_features<'a>(
    ids: &[&'a str],
    models: &BTreeMap<String, Vec<String>>,
) -> std::collections::BTreeSet<&'a str> {
    let mut under: BTreeMap<&str, usize> = BTreeMap::new();
    for id in ids {
        for prefix in prefixes(id) {
            *under.entry(prefix).or_default() += 1;
        }
    }
    let mut names = std::collections::BTreeSet::new();
    under
        .into_iter()
        .filter(|(_, count)| *count >= 2)
        .map(|(prefix, _)| prefix)
        .filter(|prefix| {
            let name = model_feature(prefix);
            !RESERVED.contains(&name.as_str()) && !models.contains_key(&name) && names.insert(name)
        })
        .collect()
}

fn collision(dir: &Path, id: &str, name: &str, other: &str) -> Error {
    Error::schema(
        dir,
        "",
        format!("model `{id}` has the cargo feature name `{name}`, already that of {other}"),
    )
    .hint("cargo feature names keep only letters and digits of an id: rename one of the model folders")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models<'a>(ids: &[&'a str]) -> Vec<(&'a str, &'a Path)> {
        ids.iter().map(|id| (*id, Path::new(*id))).collect()
    }

    #[test]
    fn names_follow_the_id() {
        assert_eq!(
            model_feature("bytedance/seedream-4-0/edit"),
            "bytedance-seedream-4-0-edit"
        );
        assert_eq!(model_feature("Acme/Image_Gen/v1.5"), "acme-image-gen-v1-5");
        assert_eq!(
            env_var("bytedance-seedream-4-0-edit"),
            "CARGO_FEATURE_BYTEDANCE_SEEDREAM_4_0_EDIT"
        );
    }

    #[test]
    fn families_of_two_or_more_get_a_feature() {
        let table = FeatureTable::new(models(&["a/x/one", "a/x/two", "b/solo/only"])).unwrap();
        assert_eq!(table.features["a-x"], ["a-x-one", "a-x-two"]);
        assert_eq!(table.features[ALL_MODELS], ["a-x", "b-solo-only"]);
        assert!(!table.features.contains_key("b-solo"));
        assert_eq!(table.family_of["a/x/one"], "a-x");
        assert!(
            table
                .to_toml()
                .starts_with("all-models = [\"a-x\", \"b-solo-only\"]\n")
        );
    }

    #[test]
    fn colliding_names_are_errors_naming_both() {
        let err = FeatureTable::new(models(&["a/b_c", "a/b-c"])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`a/b-c`") && text.contains("`a/b_c`"),
            "{text}"
        );
        let err = FeatureTable::new(models(&["all/models"])).unwrap_err();
        assert!(err.to_string().contains("every model"));
    }

    #[test]
    fn cargos_default_is_no_family_and_no_model() {
        let table = FeatureTable::new(models(&["default/a", "default/b"])).unwrap();
        assert!(!table.features.contains_key("default"), "{table:?}");
        assert_eq!(table.features[ALL_MODELS], ["default-a", "default-b"]);
        assert!(FeatureTable::new(models(&["default"])).is_err());
    }

    #[test]
    fn a_family_named_like_a_model_has_no_feature_of_its_own() {
        let table =
            FeatureTable::new(models(&["acme/flux", "acme/flux/dev", "acme/flux/pro"])).unwrap();
        assert_eq!(table.features["acme-flux"], Vec::<String>::new());
        assert_eq!(
            table.features[ALL_MODELS],
            ["acme-flux", "acme-flux-dev", "acme-flux-pro"]
        );
        assert!(!table.family_of.contains_key("acme/flux/dev"));
    }

    #[test]
    fn a_family_holds_every_model_under_it_at_any_depth() {
        let table = FeatureTable::new(models(&[
            "a/x/one",
            "a/x/one/draft",
            "a/x/two",
            "a/x/pro/p1",
            "a/x/pro/p2",
        ]))
        .unwrap();
        // `a/x/one` is a model: no family of that name, so its draft is enabled by itself.
        assert_eq!(
            table.features["a-x"],
            ["a-x-one", "a-x-one-draft", "a-x-pro", "a-x-two"]
        );
        assert_eq!(table.features["a-x-pro"], ["a-x-pro-p1", "a-x-pro-p2"]);
        assert_eq!(table.features[ALL_MODELS], ["a-x"]);
        assert_eq!(table.family_of["a/x/one/draft"], "a-x");
        assert_eq!(table.family_of["a/x/pro/p1"], "a-x-pro");
        // No vendor-wide feature for ids deeper than two segments.
        assert!(!table.features.contains_key("a"));
    }
}
