//! The web apps' words, in Project Fluent files (`locales/<tag>.ftl`) compiled into the
//! binary. Pages are rendered with them on the server; the scripts get the same
//! messages as a JSON catalog in which each argument is left as `{name}` for them to
//! fill in. Every locale must carry every message: a test holds the files to each other
//! and to the templates and scripts that use them.

use comanda_domain::Locale;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The source of each locale's messages.
pub const SOURCES: [(Locale, &str); 3] = [
    (Locale::EnUs, include_str!("../../locales/en-US.ftl")),
    (Locale::PtBr, include_str!("../../locales/pt-BR.ftl")),
    (Locale::IdId, include_str!("../../locales/id-ID.ftl")),
];

struct Catalog {
    bundle: FluentBundle<FluentResource>,
    /// Every message for the scripts, as JSON safe to put inside a `<script>` element.
    script_json: String,
}

static CATALOGS: LazyLock<Vec<(Locale, Catalog)>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(locale, source)| (*locale, load(*locale, source)))
        .collect()
});

fn load(locale: Locale, source: &str) -> Catalog {
    // A broken file is a build defect that the tests catch; parse what can be parsed.
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, _)| r);
    let arguments = arguments_of(&resource);
    let tag = locale
        .tag()
        .parse()
        .unwrap_or_else(|_| unic_langid::LanguageIdentifier::default());
    let mut bundle = FluentBundle::new_concurrent(vec![tag]);
    // Unicode isolation marks around arguments would show up inside input values and
    // break the scripts' placeholder replacement; the apps are left-to-right only.
    bundle.set_use_isolating(false);
    let _ = bundle.add_resource(resource);
    let mut script = BTreeMap::new();
    for (id, names) in arguments {
        let mut args = FluentArgs::new();
        for name in names {
            args.set(name.clone(), FluentValue::from(format!("{{{name}}}")));
        }
        if let Some(text) = format(&bundle, &id, Some(&args)) {
            script.insert(id, text);
        }
    }
    let script_json = serde_json::to_string(&script)
        .unwrap_or_default()
        .replace('<', "\\u003c");
    Catalog {
        bundle,
        script_json,
    }
}

/// Each message's id and the arguments its text refers to.
fn arguments_of(resource: &FluentResource) -> Vec<(String, Vec<String>)> {
    fn walk(pattern: &ast::Pattern<&str>, names: &mut Vec<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_names(expression, names);
            }
        }
    }
    fn expression_names(expression: &ast::Expression<&str>, names: &mut Vec<String>) {
        match expression {
            ast::Expression::Inline(inline) => inline_names(inline, names),
            ast::Expression::Select { selector, variants } => {
                inline_names(selector, names);
                for variant in variants {
                    walk(&variant.value, names);
                }
            }
        }
    }
    fn inline_names(inline: &ast::InlineExpression<&str>, names: &mut Vec<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id }
                if !names.iter().any(|n| n == id.name) =>
            {
                names.push(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => expression_names(expression, names),
            _ => {}
        }
    }
    resource
        .entries()
        .filter_map(|entry| match entry {
            ast::Entry::Message(message) => {
                let mut names = Vec::new();
                if let Some(value) = &message.value {
                    walk(value, &mut names);
                }
                Some((message.id.name.to_owned(), names))
            }
            _ => None,
        })
        .collect()
}

fn format(
    bundle: &FluentBundle<FluentResource>,
    id: &str,
    args: Option<&FluentArgs>,
) -> Option<String> {
    let pattern = bundle.get_message(id)?.value()?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, args, &mut errors);
    errors.is_empty().then(|| text.into_owned())
}

fn catalog(locale: Locale) -> &'static Catalog {
    let catalogs = &*CATALOGS;
    catalogs
        .iter()
        .find(|(l, _)| *l == locale)
        .or_else(|| catalogs.first())
        .map(|(_, c)| c)
        .unwrap_or_else(|| unreachable!("SOURCES is not empty"))
}

/// The message `id` in `locale`; the id itself if it is missing (the tests make sure
/// none is).
pub fn t(locale: Locale, id: &str) -> String {
    t_with(locale, id, &[])
}

/// The message `id` with its arguments.
pub fn t_with(locale: Locale, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut fluent = FluentArgs::new();
    for (name, value) in args {
        fluent.set(*name, value.clone());
    }
    format(&catalog(locale).bundle, id, Some(&fluent)).unwrap_or_else(|| id.to_owned())
}

/// Every message of `locale` for the scripts, as JSON that may sit in a `<script>`.
pub fn script_catalog(locale: Locale) -> &'static str {
    &catalog(locale).script_json
}

/// The ids of the messages `locale` defines, in file order; for the tests.
pub fn message_ids(locale: Locale) -> Vec<String> {
    SOURCES
        .iter()
        .filter(|(l, _)| *l == locale)
        .flat_map(|(_, source)| {
            let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(r, _)| r);
            arguments_of(&resource)
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_file_parses_and_every_message_formats() {
        for (locale, source) in SOURCES {
            let resource = match FluentResource::try_new(source.to_owned()) {
                Ok(resource) => resource,
                Err((_, errors)) => panic!("{locale}: {errors:?}"),
            };
            let names: BTreeMap<String, Vec<String>> =
                arguments_of(&resource).into_iter().collect();
            for id in message_ids(locale) {
                let catalog = catalog(locale);
                let pattern = catalog
                    .bundle
                    .get_message(&id)
                    .and_then(|m| m.value())
                    .unwrap_or_else(|| panic!("{locale}: {id} has no value"));
                let mut args = FluentArgs::new();
                for name in names.get(&id).into_iter().flatten() {
                    args.set(name.clone(), FluentValue::from(2));
                }
                let mut errors = Vec::new();
                let _ = catalog
                    .bundle
                    .format_pattern(pattern, Some(&args), &mut errors);
                assert!(errors.is_empty(), "{locale}: {id}: {errors:?}");
            }
        }
    }

    #[test]
    fn every_locale_has_the_same_messages() {
        let english: BTreeSet<String> = message_ids(Locale::EnUs).into_iter().collect();
        assert!(english.len() > 50, "{english:?}");
        for locale in [Locale::PtBr, Locale::IdId] {
            let ids = message_ids(locale);
            let set: BTreeSet<String> = ids.iter().cloned().collect();
            assert_eq!(set.len(), ids.len(), "{locale}: a message is defined twice");
            let missing: Vec<_> = english.difference(&set).collect();
            let extra: Vec<_> = set.difference(&english).collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
            assert!(extra.is_empty(), "{locale} has unknown {extra:?}");
        }
    }

    #[test]
    fn words_differ_between_languages() {
        // A copied file would pass the key check with every word left in English.
        for id in ["pos-send", "kds-bump", "login-submit", "pay-cash"] {
            let en = t(Locale::EnUs, id);
            assert_ne!(en, t(Locale::PtBr, id), "{id}");
            assert_ne!(en, t(Locale::IdId, id), "{id}");
        }
    }

    #[test]
    fn scripts_get_arguments_as_placeholders() {
        let catalog: BTreeMap<String, String> =
            serde_json::from_str(script_catalog(Locale::EnUs)).expect("json");
        assert_eq!(catalog["toast-ready"], "Order #{number} ({table}) is ready");
        assert!(!script_catalog(Locale::PtBr).contains('<'));
        assert_eq!(
            t_with(
                Locale::PtBr,
                "toast-ready",
                &[("number", 7.into()), ("table", "Mesa 3".into())]
            ),
            "Pedido nº 7 (Mesa 3) está pronto"
        );
    }

    /// Every `t("…")` a template or script asks for is a message.
    #[test]
    fn templates_and_scripts_use_only_defined_messages() {
        let english: BTreeSet<String> = message_ids(Locale::EnUs).into_iter().collect();
        for (file, text) in super::super::assets::USES_MESSAGES {
            for quote in ['"', '\''] {
                let opener = format!("t({quote}");
                for (at, _) in text.match_indices(&opener) {
                    // `t(`, `self.t(`, `shell.t(`; not `split(`.
                    let before = text[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &text[at + opener.len()..];
                    let Some(end) = rest.find(quote) else {
                        continue;
                    };
                    let id = &rest[..end];
                    // `t('status-' + status)`: a family of messages, checked by its prefix.
                    let defined = if id.ends_with('-') {
                        english.iter().any(|known| known.starts_with(id))
                    } else {
                        english.contains(id)
                    };
                    assert!(defined, "{file} uses {id:?}, which no locale defines");
                }
            }
        }
    }
}
