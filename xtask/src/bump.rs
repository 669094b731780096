//! The semver bump a set of changes calls for.

use std::fmt;
use std::fs;
use std::path::Path;

use runcomfy_codegen::compat::Impact;

/// A version bump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    /// Nothing changed.
    None,
    /// `x.y.Z`.
    Patch,
    /// `x.Y.0`.
    Minor,
    /// `X.0.0`.
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bump::None => "none",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        })
    }
}

/// The bump for the worst change. Before 1.0 Cargo treats `0.Y` as the breaking digit, so a
/// breaking change is a minor bump and everything else a patch; from 1.0 on it is
/// major / minor (additions) / patch (docs, defaults).
pub fn bump_for(major: u64, worst: Option<Impact>) -> Bump {
    match (worst, major) {
        (None, _) => Bump::None,
        (Some(Impact::Breaking), 0) => Bump::Minor,
        (Some(_), 0) => Bump::Patch,
        (Some(Impact::Breaking), _) => Bump::Major,
        (Some(Impact::Additive), _) => Bump::Minor,
        (Some(Impact::Notable), _) => Bump::Patch,
    }
}

/// `major.minor.patch` of a version (a pre-release or build suffix is ignored).
pub fn parse(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.trim().split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

/// The version after a bump.
pub fn apply(version: (u64, u64, u64), bump: Bump) -> (u64, u64, u64) {
    let (major, minor, patch) = version;
    match bump {
        Bump::None => version,
        Bump::Patch => (major, minor, patch + 1),
        Bump::Minor => (major, minor + 1, 0),
        Bump::Major => (major + 1, 0, 0),
    }
}

/// `version` under `[workspace.package]` in the workspace's Cargo.toml.
pub fn workspace_version(root: &Path) -> Option<String> {
    let text = fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
        } else if in_section
            && let Some(value) = line.strip_prefix("version")
            && let Some(value) = value.trim_start().strip_prefix('=')
        {
            return Some(value.trim().trim_matches('"').to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_follow_cargo_semver() {
        assert_eq!(bump_for(0, Some(Impact::Breaking)), Bump::Minor);
        assert_eq!(bump_for(0, Some(Impact::Additive)), Bump::Patch);
        assert_eq!(bump_for(0, Some(Impact::Notable)), Bump::Patch);
        assert_eq!(bump_for(1, Some(Impact::Breaking)), Bump::Major);
        assert_eq!(bump_for(2, Some(Impact::Additive)), Bump::Minor);
        assert_eq!(bump_for(1, Some(Impact::Notable)), Bump::Patch);
        assert_eq!(bump_for(1, None), Bump::None);
    }

    #[test]
    fn versions_parse_and_bump() {
        assert_eq!(parse("0.1.0"), Some((0, 1, 0)));
        assert_eq!(parse("1.2.3-beta.1"), Some((1, 2, 3)));
        assert_eq!(parse("1.2"), None);
        assert_eq!(apply((0, 1, 3), Bump::Minor), (0, 2, 0));
        assert_eq!(apply((1, 1, 3), Bump::Major), (2, 0, 0));
        assert_eq!(apply((1, 1, 3), Bump::Patch), (1, 1, 4));
    }
}
