//! From the IR to Rust source: tokens with `quote`, formatted by `prettyplease` when the code
//! is for people.

mod compact;
mod docs;
mod enums;
mod info;
mod input;
mod output;
mod schema;

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::{Catalog, Model, RustType};

pub(crate) use docs::{doc_attrs, schema_text};

/// The generated file: `models`, `outputs` and the runtime catalog, for the models `select`
/// accepts; formatted when `pretty`, else written compactly with the models' bodies rendered
/// on up to `threads` threads (the text is the same whatever the number). With `gated`, the
/// modules left out are declared empty behind their features
/// ([`Generator::gated_modules`](crate::Generator::gated_modules)).
pub fn file(
    catalog: &Catalog,
    select: &dyn Fn(&Model) -> bool,
    pretty: bool,
    threads: usize,
    gated: bool,
) -> String {
    let selected: Vec<usize> = (0..catalog.models.len())
        .filter(|&i| select(&catalog.models[i]))
        .collect();
    if pretty {
        let mut sink = TokenSink::default();
        write_file(catalog, &selected, gated, &mut sink);
        format(sink.finish())
    } else {
        let mut sink = compact::Writer::with_models(catalog, &selected, threads);
        write_file(catalog, &selected, gated, &mut sink);
        sink.finish()
    }
}

/// Where the file goes, one piece at a time: tokens for the formatter, or straight to text so
/// that only one model's tokens exist at once.
pub(crate) trait Sink {
    /// Items at the current place.
    fn items(&mut self, tokens: TokenStream);
    /// The items of model `index` of the catalog.
    fn model(&mut self, catalog: &Catalog, index: usize);
    /// Opens a block after `header` (a module's docs and `pub mod name`).
    fn open(&mut self, header: TokenStream);
    /// Closes the innermost open block.
    fn close(&mut self);
}

/// Collects the whole file as one token stream.
#[derive(Default)]
struct TokenSink {
    root: TokenStream,
    /// The open blocks: header, body so far.
    open: Vec<(TokenStream, TokenStream)>,
}

impl TokenSink {
    fn body(&mut self) -> &mut TokenStream {
        match self.open.last_mut() {
            Some((_, body)) => body,
            None => &mut self.root,
        }
    }

    fn finish(mut self) -> TokenStream {
        while !self.open.is_empty() {
            self.close();
        }
        self.root
    }
}

impl Sink for TokenSink {
    fn items(&mut self, tokens: TokenStream) {
        self.body().extend(tokens);
    }

    fn model(&mut self, catalog: &Catalog, index: usize) {
        self.items(model_items(catalog, &catalog.models[index]));
    }

    fn open(&mut self, header: TokenStream) {
        self.open.push((header, TokenStream::new()));
    }

    fn close(&mut self) {
        if let Some((header, body)) = self.open.pop() {
            let block = quote!(#header { #body });
            self.body().extend(block);
        }
    }
}

fn write_file(catalog: &Catalog, selected: &[usize], gated: bool, sink: &mut dyn Sink) {
    let selected: Vec<(usize, &Model)> = selected
        .iter()
        .map(|&index| (index, &catalog.models[index]))
        .collect();
    let mut root = Node::default();
    for &(index, model) in &selected {
        let mut node = &mut root;
        node.generated = true;
        for segment in &model.module_path {
            node = node.children.entry(segment.clone()).or_default();
            node.generated = true;
        }
        node.model = Some(index);
    }
    // The models left out, declared only: the feature table knows every id.
    if gated {
        let generated: BTreeSet<&str> = selected.iter().map(|(_, m)| m.id.as_str()).collect();
        for id in catalog
            .features
            .ids
            .iter()
            .filter(|id| !generated.contains(id.as_str()))
        {
            let mut node = &mut root;
            let mut prefix = String::new();
            for segment in id.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(segment);
                node = node
                    .children
                    .entry(crate::naming::module_ident(segment))
                    .or_default();
                node.prefix.get_or_insert_with(|| prefix.clone());
            }
            node.is_model = true;
        }
    }
    sink.open(quote! {
        /// The models of the catalog: one module per segment of the model id, so
        /// `bytedance/seedream-4-0/edit` is `models::bytedance::seedream_4_0::edit`.
        pub mod models
    });
    for (name, node) in &root.children {
        match node.generated {
            true => tree(catalog, name, node, &[], sink),
            false => gated_module(catalog, name, node, sink),
        }
    }
    sink.close();

    sink.open(quote! {
        /// Output types, each shared by every model with the same output schema.
        pub mod outputs
    });
    let used: BTreeSet<usize> = selected.iter().map(|(_, m)| m.output).collect();
    // With no model enabled there is no output type, and the imports would be unused.
    if !used.is_empty() {
        sink.items(quote! {
            use serde::{Deserialize, Serialize};

            use crate::catalog::OutputField;
            use crate::model::{OutputFile, push_extra_urls, push_url};
        });
    }
    for &index in &used {
        sink.items(output::output(&catalog.outputs[index]));
    }
    sink.close();

    let entries = selected.iter().map(|(_, model)| {
        let path = model.module_path.iter().map(|s| format_ident!("{s}"));
        quote!(&models::#(#path)::*::INFO)
    });
    sink.items(quote! {
        /// Every generated model, sorted by id.
        static GENERATED_MODELS: &[&crate::model::ModelInfo] = &[#(#entries),*];
    });
}

/// The catalog's output types, as the `outputs` module of [`file()`] has them; used for review
/// and snapshots.
pub fn outputs_module(catalog: &Catalog) -> String {
    let outputs = catalog.outputs.iter().map(output::output);
    format(quote!(#(#outputs)*))
}

/// One model's module on its own, as it appears in [`file()`]; used for review and snapshots.
pub fn model_module(catalog: &Catalog, model: &Model) -> String {
    let name = format_ident!(
        "{}",
        model.module_path.last().map_or("model", String::as_str)
    );
    let docs = doc_attrs(&module_docs(catalog, model));
    let body = model_items(catalog, model);
    format(quote! {
        #docs
        pub mod #name {
            #body
        }
    })
}

fn format(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => space_items(&prettyplease::unparse(&file)),
        // Unreachable for tokens built here; keep the raw text reviewable rather than panic.
        Err(_) => tokens.to_string(),
    }
}

/// prettyplease packs items together; put a blank line between items (and after `use`
/// groups) as a person would.
fn space_items(code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let mut out = String::with_capacity(code.len() + code.len() / 16);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        let Some(next) = lines.get(i + 1) else {
            continue;
        };
        let indent = |l: &str| l.len() - l.trim_start().len();
        let (this, following) = (line.trim_start(), next.trim_start());
        if indent(line) != indent(next) || following.is_empty() {
            continue;
        }
        let closes = this == "}" || this == "};";
        let is_use = |l: &str| l.starts_with("use ") || l.starts_with("pub use ");
        let ends_uses = is_use(this) && !is_use(following);
        let item_after_semicolon = this.ends_with(';')
            && !this.starts_with("let ")
            && (following.starts_with("///")
                || following.starts_with("#[")
                || following.starts_with("pub ")
                || following.starts_with("const ")
                || following.starts_with("static ")
                || following.starts_with("impl"));
        let continues = (this == "};" && is_use(following))
            || following.starts_with('}')
            || following.starts_with(')')
            || following.starts_with(']')
            || following.starts_with("else");
        if (closes || ends_uses || item_after_semicolon) && !continues {
            out.push('\n');
        }
    }
    out
}

#[derive(Default)]
struct Node {
    model: Option<usize>,
    children: BTreeMap<String, Node>,
    /// A model at or under it is generated; else it is only declared, behind its feature.
    generated: bool,
    /// The id prefix a module of left-out models stands for, and whether it is a model's.
    prefix: Option<String>,
    is_model: bool,
}

/// A module none of whose models is generated: declared empty, behind the feature that enables
/// it (its family's, or its model's), which is what the compiler names to a program that uses
/// it. A folder no one feature enables (a vendor) is declared, empty but for its
/// children declared so.
fn gated_module(catalog: &Catalog, name: &str, node: &Node, sink: &mut dyn Sink) {
    let ident = format_ident!("{name}");
    let feature = node
        .prefix
        .as_deref()
        .map(crate::features::model_feature)
        .filter(|feature| {
            // A family's; or the model's own, when the folder is one (its models below have
            // features of their own, which the compiler names next).
            catalog
                .features
                .features
                .get(feature)
                .is_some_and(|enables| !enables.is_empty() || node.is_model)
        });
    match feature {
        Some(feature) => sink.items(quote! {
            #[cfg(feature = #feature)]
            pub mod #ident {}
        }),
        None => {
            let docs = doc_attrs(&[format!(
                "Models whose id starts with `{}/`; none is enabled in this build.",
                node.prefix.as_deref().unwrap_or(name)
            )]);
            sink.open(quote! {
                #docs
                pub mod #ident
            });
            for (child, n) in &node.children {
                gated_module(catalog, child, n, sink);
            }
            sink.close();
        }
    }
}

fn tree(catalog: &Catalog, name: &str, node: &Node, parents: &[&str], sink: &mut dyn Sink) {
    let ident = format_ident!("{name}");
    let mut path: Vec<&str> = parents.to_vec();
    path.push(name);
    let model = node.model.map(|index| &catalog.models[index]);
    let docs = match model {
        Some(model) => module_docs(catalog, model),
        None => vec![format!(
            "Models whose id starts with `{}/`.",
            prefix_of(catalog, node).unwrap_or_else(|| path.join("/"))
        )],
    };
    let docs = doc_attrs(&docs);
    // An id that repeats a segment (`replicate/replicate/hello-world`) nests a module in its
    // namesake: the path mirrors the id, as everywhere else.
    let inception =
        (parents.last() == Some(&name)).then(|| quote!(#[allow(clippy::module_inception)]));
    sink.open(quote! {
        #docs
        #inception
        pub mod #ident
    });
    if let Some(index) = node.model {
        sink.model(catalog, index);
    }
    for (child, n) in &node.children {
        match n.generated {
            true => tree(catalog, child, n, &path, sink),
            false => gated_module(catalog, child, n, sink),
        }
    }
    sink.close();
}

/// The id prefix a namespace module stands for (`bytedance/seedream-4-0`).
fn prefix_of(catalog: &Catalog, node: &Node) -> Option<String> {
    let mut current = node;
    let mut depth = 0;
    loop {
        if let Some(index) = current.model {
            let id = &catalog.models[index].id;
            let segments: Vec<&str> = id.split('/').collect();
            return Some(segments[..segments.len().saturating_sub(depth)].join("/"));
        }
        current = current.children.values().next()?;
        depth += 1;
    }
}

fn module_docs(catalog: &Catalog, model: &Model) -> Vec<String> {
    let mut docs = vec![format!(
        "{} (`{}`).",
        schema_text(model.display_name.trim_end_matches('.')),
        model.id
    )];
    docs.extend(model.docs.iter().map(|d| schema_text(d)));
    let feature = crate::features::model_feature(&model.id);
    let all = crate::features::ALL_MODELS;
    docs.push(match catalog.features.family_of.get(&model.id) {
        Some(family) => format!(
            "Compiled with the cargo feature `{feature}`, which `{family}` and `{all}` (a default) enable."
        ),
        None => format!("Compiled with the cargo feature `{feature}`, which `{all}` (a default) enables."),
    });
    docs
}

/// Everything inside a model's module.
pub(crate) fn model_items(catalog: &Catalog, model: &Model) -> TokenStream {
    let marker = format_ident!("{}", model.type_name);
    let input = format_ident!("{}", model.input_struct().name);
    let output = format_ident!("{}", catalog.outputs[model.output].name);
    let id = &model.id;
    let marker_docs = doc_attrs(&[
        format!(
            "The model `{id}`: {}.",
            schema_text(model.display_name.trim_end_matches('.'))
        ),
        format!(
            "Its input is [`{input}`] and its output [`{output}`]; pass this type to the client to run it."
        ),
    ]);
    let imports = imports(model);
    let structs = model.structs.iter().enumerate().map(|(i, s)| {
        let marker = (i == model.input).then_some(model.type_name.as_str());
        input::structure(model, s, marker)
    });
    let enums = model.enums.iter().map(enums::enumeration);
    let unions = model.unions.iter().map(|u| enums::union(model, u));
    let info = info::model_info(catalog, model);
    let schema = schema::module(model);
    quote! {
        #imports
        pub use crate::outputs::#output;

        #marker_docs
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct #marker;

        impl crate::Model for #marker {
            const ID: &'static str = #id;
            type Input = #input;
            type Output = #output;

            fn info() -> &'static crate::model::ModelInfo {
                &INFO
            }
        }

        #(#structs)*
        #(#enums)*
        #(#unions)*
        #info
        #schema
    }
}

/// Exactly the names the module uses, so it compiles without warnings.
fn imports(model: &Model) -> TokenStream {
    let mut types: Vec<&RustType> = Vec::new();
    for s in &model.structs {
        types.extend(s.fields.iter().map(|f| &f.ty));
    }
    for u in &model.unions {
        types.extend(u.variants.iter().map(|v| &v.ty));
    }
    let mut runtime = Vec::new();
    let uses = |wanted: &RustType| types.iter().any(|ty| contains(ty, wanted));
    if uses(&RustType::Integer) {
        runtime.push("Integer");
    }
    if uses(&RustType::Media) {
        runtime.push("Media");
    }
    let integer_enums = model
        .enums
        .iter()
        .any(|e| e.repr == crate::ir::EnumRepr::Integer);
    if uses(&RustType::Number) || integer_enums {
        runtime.push("Number");
    }
    let runtime = (!runtime.is_empty()).then(|| {
        let names = runtime.iter().map(|n| format_ident!("{n}"));
        quote!(use crate::{#(#names),*};)
    });
    let fields = model.structs.iter().flat_map(|s| &s.fields);
    let mut helpers = vec!["Instance", "Object", "View", "entries"];
    if fields.clone().any(|f| f.required) {
        helpers.push("field");
    }
    if fields.clone().any(|f| !f.required) {
        helpers.push("optional");
    }
    let helpers = helpers.iter().map(|n| format_ident!("{n}"));
    quote! {
        use serde::{Deserialize, Serialize};

        #runtime
        use crate::validate::instance::{#(#helpers),*};
    }
}

/// Whether `ty` is or holds `wanted`.
fn contains(ty: &RustType, wanted: &RustType) -> bool {
    ty == wanted
        || match ty {
            RustType::Vec(inner) | RustType::Nullable(inner) => contains(inner, wanted),
            _ => false,
        }
}
