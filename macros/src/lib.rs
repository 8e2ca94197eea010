//! corio's macros: `#[corio::main]`, `#[corio::test]` (run an `async fn`) and `select!`.
//!
//! Use them through the facade crate, as `#[corio::main]` and `#[corio::test]`; the
//! examples live on those re-exports.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Token};

mod select;

/// Runs an `async fn main` on a corio runtime (multi-thread unless told otherwise).
///
/// Options: `flavor = "multi_thread"` (default) or `flavor = "current_thread"`,
/// `worker_threads = N` (multi-thread only), `crate = "path"` (if corio is renamed).
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Main).unwrap_or_else(|e| {
        // A placeholder `main` keeps the error above from being followed by "`main`
        // function not found".
        let error = e.to_compile_error();
        quote!(#error fn main() {}).into()
    })
}

/// Runs an `async fn` test on a corio runtime (current-thread unless told otherwise).
///
/// Options: `flavor = "current_thread"` (default) or `flavor = "multi_thread"`,
/// `worker_threads = N` (multi-thread only), `crate = "path"` (if corio is renamed).
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Test).unwrap_or_else(|e| e.to_compile_error().into())
}

/// The expansion behind `corio::select!`; use that macro, which passes its own crate
/// path as the first, parenthesized token group: `select_impl!((::corio) branches..)`.
#[doc(hidden)]
#[proc_macro]
pub fn select_impl(input: TokenStream) -> TokenStream {
    select::expand(input.into())
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[corio::main]",
            Kind::Test => "#[corio::test]",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Flavor {
    MultiThread,
    CurrentThread,
}

/// The parsed attribute options.
struct Options {
    flavor: Flavor,
    worker_threads: Option<(usize, Span)>,
    krate: syn::Path,
}

fn parse_options(args: TokenStream, kind: Kind) -> syn::Result<Options> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse(args)?;
    let mut flavor = None;
    let mut worker_threads = None;
    let mut krate: syn::Path = syn::parse_quote!(::corio);
    for meta in metas {
        let nv = match meta {
            Meta::NameValue(nv) => nv,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    format!(
                        "unknown option for {}: expected `flavor = \"..\"`, `worker_threads = N` or `crate = \"..\"`",
                        kind.attr()
                    ),
                ))
            }
        };
        let name = nv
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match name.as_str() {
            "flavor" => {
                let s = lit_str(&nv.value, "flavor")?;
                flavor = Some(match s.value().as_str() {
                    "multi_thread" => Flavor::MultiThread,
                    "current_thread" => Flavor::CurrentThread,
                    other => {
                        return Err(syn::Error::new(
                            s.span(),
                            format!(
                                "unknown flavor `{other}`: expected \"multi_thread\" or \"current_thread\""
                            ),
                        ))
                    }
                });
            }
            "worker_threads" => {
                let n = match &nv.value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Int(i), ..
                    }) => i.base10_parse::<usize>()?,
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "`worker_threads` must be an integer literal, e.g. `worker_threads = 4`",
                        ))
                    }
                };
                if n == 0 {
                    return Err(syn::Error::new(
                        nv.value.span(),
                        "`worker_threads` must be at least 1",
                    ));
                }
                worker_threads = Some((n, nv.value.span()));
            }
            "crate" => {
                let s = lit_str(&nv.value, "crate")?;
                krate = s.parse()?;
            }
            _ => {
                return Err(syn::Error::new(
                    nv.path.span(),
                    format!(
                        "unknown option `{name}` for {}: expected `flavor`, `worker_threads` or `crate`",
                        kind.attr()
                    ),
                ))
            }
        }
    }
    let flavor = flavor.unwrap_or(match kind {
        Kind::Main => Flavor::MultiThread,
        Kind::Test => Flavor::CurrentThread,
    });
    if let (Flavor::CurrentThread, Some((_, span))) = (flavor, worker_threads) {
        return Err(syn::Error::new(
            span,
            "`worker_threads` only applies to `flavor = \"multi_thread\"`: a current-thread runtime runs everything on the calling thread",
        ));
    }
    Ok(Options {
        flavor,
        worker_threads,
        krate,
    })
}

fn lit_str(expr: &Expr, what: &str) -> syn::Result<syn::LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{what}` takes a string literal"),
        )),
    }
}

fn expand(args: TokenStream, item: TokenStream, kind: Kind) -> syn::Result<TokenStream> {
    let opts = parse_options(args, kind)?;
    let mut func: ItemFn = syn::parse(item)?;
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!(
                "the `async` keyword is missing from the function declaration: {} runs an `async fn`",
                kind.attr()
            ),
        ));
    }
    if kind == Kind::Main && sig.ident != "main" {
        return Err(syn::Error::new(
            sig.ident.span(),
            "#[corio::main] goes on `async fn main()`; for other functions use Runtime::block_on",
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!("{} functions take no arguments", kind.attr()),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!("{} functions cannot be generic", kind.attr()),
        ));
    }
    if kind == Kind::Test {
        if let Some(attr) = func.attrs.iter().find(|a| a.path().is_ident("test")) {
            return Err(syn::Error::new(
                attr.span(),
                "#[corio::test] already marks this function as a test: remove the second `#[test]`",
            ));
        }
    }

    let krate = &opts.krate;
    let builder = match opts.flavor {
        Flavor::MultiThread => quote!(#krate::Builder::new_multi_thread()),
        Flavor::CurrentThread => quote!(#krate::Builder::new_current_thread()),
    };
    let workers = opts
        .worker_threads
        .map(|(n, _)| quote!(.worker_threads(#n)))
        .unwrap_or_default();

    func.sig.asyncness = None;
    let body = &func.block;
    let span = body.span();
    let run: TokenStream2 = quote_spanned! {span=>
        {
            let body = async move #body;
            #builder
                #workers
                .build()
                .expect("failed to build the corio runtime")
                .block_on(body)
        }
    };
    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = &func.sig;
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis #sig #run
    }
    .into())
}
