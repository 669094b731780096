//! The cargo features of a catalog, so a dependent compiles only the models it uses.
//!
//! Each model has a feature named after its id (`bytedance/seedream-4-0/edit` is
//! `bytedance-seedream-4-0-edit`); each family of two or more models (the id without its last
//! segment) has one enabling them all (`bytedance-seedream-4-0`), unless a model already has
//! that name; `all-models` enables every model. `runcomfy`'s `Cargo.toml` declares them (`cargo xtask features` writes the table) and
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
}

impl FeatureTable {
    /// The features of the models `ids`, each with its folder (named in errors).
    ///
    /// Fails when two ids map to the same feature name.
    pub fn new<'a>(models: impl IntoIterator<Item = (&'a str, &'a Path)>) -> Result<Self, Errors> {
        let mut families: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        // Each model's feature, with the model that took the name first.
        let mut features: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut owners: BTreeMap<String, &str> = BTreeMap::new();
        let mut errors = Vec::new();
        for (id, dir) in models {
            families.entry(family(id)).or_default().push(id);
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
        let mut family_of = BTreeMap::new();
        let mut all = Vec::new();
        for (family, members) in &families {
            let name = model_feature(family);
            // A lone model needs no family; a family whose name is taken (`acme/flux` beside
            // `acme/flux/dev`) has none either, as one name cannot mean both.
            if members.len() < 2
                || RESERVED.contains(&name.as_str())
                || features.contains_key(&name)
            {
                all.extend(members.iter().map(|id| model_feature(id)));
                continue;
            }
            let mut enables: Vec<String> = members.iter().map(|id| model_feature(id)).collect();
            enables.sort();
            for id in members {
                family_of.insert((*id).to_owned(), name.clone());
            }
            features.insert(name.clone(), enables);
            all.push(name);
        }
        if !errors.is_empty() {
            return Err(Errors(errors));
        }
        all.sort();
        features.insert(ALL_MODELS.to_owned(), all);
        Ok(Self {
            features,
            family_of,
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
}
